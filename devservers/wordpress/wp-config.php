<?php
// The per-run configuration of the test WordPress, copied into the per-run document root in place of
// Debian's wp-config.php (which only reads /etc/wordpress/config-<host>.php): nothing outside the
// temporary directory is read or written. The values come from run.json beside it, written by
// testsupport/servers/wordpress.py. Constants: https://developer.wordpress.org/apis/wp-config-php/
$resonanz_run = json_decode(file_get_contents(__DIR__ . '/run.json'), true);

define('DB_NAME', $resonanz_run['db_name']);
define('DB_USER', $resonanz_run['db_user']);
define('DB_PASSWORD', $resonanz_run['db_password']);
define('DB_HOST', $resonanz_run['db_host']);
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT',
          'LOGGED_IN_SALT', 'NONCE_SALT'] as $resonanz_key) {
    define($resonanz_key, $resonanz_run['secret'] . $resonanz_key);
}
define('WP_HOME', $resonanz_run['url']);
define('WP_SITEURL', $resonanz_run['url']);
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_CONTENT_URL', $resonanz_run['url'] . '/wp-content');
// 'local' allows application passwords over plain HTTP (wp_is_application_passwords_available()).
define('WP_ENVIRONMENT_TYPE', 'local');
// No calls to wordpress.org (update checks), no cron spawned by page loads, no file edits.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISALLOW_FILE_MODS', true);
define('WP_DEBUG', false);
$table_prefix = 'wp_';

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
