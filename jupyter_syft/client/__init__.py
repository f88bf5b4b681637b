"""The kernel-side runtime: talks to a Datasite over HTTP. Never imports server modules."""
