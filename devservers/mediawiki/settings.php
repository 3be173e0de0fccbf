<?php
// Appended (required) to the LocalSettings.php that maintenance/install.php writes for the test wiki
// (testsupport/servers/mediawiki.py). Everything stays in the per-run directory beside that file, which
// MediaWiki finds through the MW_CONFIG_FILE environment variable (includes/BootstrapHelperFunctions.php).
// Settings: https://www.mediawiki.org/wiki/Manual:Configuration_settings

// Interface messages cached as files (faster first requests than the SQLite l10n store).
$wgCacheDirectory = dirname(MW_CONFIG_FILE) . '/cache';
// No mail (there is no sendmail), no uploads.
$wgEnableEmail = false;
$wgEnableUploads = false;
// Edits log in with a bot password (Special:BotPasswords; made by maintenance/createBotPassword.php).
$wgEnableBotPasswords = true;
// Jobs (search index, link tables) run at the end of web requests: no job runner in tests.
$wgJobRunRate = 1;
