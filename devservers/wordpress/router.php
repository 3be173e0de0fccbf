<?php
// Router for PHP's built-in server (php -S 127.0.0.1:PORT router.php), run from the per-run document
// root: existing files (wp-includes/js/…, wp-login.php) are served as they are, everything else goes to
// index.php, as Apache's mod_rewrite rules in Debian's /etc/wordpress/htaccess do. Pretty permalinks
// (/feed/, /wp-json/) depend on it. https://www.php.net/manual/en/features.commandline.webserver.php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/' && is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
