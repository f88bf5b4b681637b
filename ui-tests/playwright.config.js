/**
 * Galata configuration: Debian's chromium (no Playwright browser download), one worker,
 * no video (it would need Playwright's ffmpeg), a 1280x800 window.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.SYFT_UI_TEST_PORT || '8888';

module.exports = {
  ...baseConfig,
  workers: 1,
  retries: 0,
  timeout: 120000,
  outputDir: 'test-results',
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }]
  ],
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${port}`,
    viewport: { width: 1280, height: 800 },
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: 'jupyter lab --config jupyter_server_test_config.py',
    url: `http://localhost:${port}/lab`,
    timeout: 120000,
    // A fresh, seeded Datasite per run; set SYFT_UI_REUSE_SERVER=1 to iterate locally.
    reuseExistingServer: !!process.env.SYFT_UI_REUSE_SERVER,
    stdout: 'ignore',
    stderr: 'pipe'
  }
};
