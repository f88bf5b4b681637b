"""The Code API guide's nested-jobs example, shared by the local and the Dask tests.

The functions are the guide's, literally (``batch.to_numpy()`` relies on np.array_split
giving DataFrames: pandas 2, which pyproject pins); ``progress=True`` adds progress calls.
"""

import contextlib
import io

import jupyter_syft as sy


def submit_nested_example(client, asset, progress=False):
    """Submit process_batch and aggregate_job, request process_all; return the request."""
    with contextlib.redirect_stdout(io.StringIO()):

        @sy.syft_function()
        def process_batch(batch):
            return batch.to_numpy().sum()

        @sy.syft_function()
        def aggregate_job(job_results):
            return sum(job_results)

        if progress:

            @sy.syft_function_single_use(data=asset)
            def process_all(datasite, data):
                import numpy as np

                datasite.init_progress(2)
                job_results = []
                for batch in np.array_split(data, 2):
                    batch_job = datasite.launch_job(process_batch, batch=batch)
                    job_results += [batch_job.result]
                    datasite.increment_progress()
                job = datasite.launch_job(aggregate_job, job_results=job_results)
                return job.result

        else:

            @sy.syft_function_single_use(data=asset)
            def process_all(datasite, data):
                import numpy as np

                job_results = []
                for batch in np.array_split(data, 2):
                    batch_job = datasite.launch_job(process_batch, batch=batch)
                    job_results += [batch_job.result]
                job = datasite.launch_job(aggregate_job, job_results=job_results)
                return job.result

    client.code.submit(process_batch)
    client.code.submit(aggregate_job)
    return client.code.request_code_execution(process_all)
