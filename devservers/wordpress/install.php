<?php
// Installs the test WordPress from PHP's CLI (no web installer): php install.php <docroot>.
// wp_install() creates the tables and the admin; then pretty permalinks (for /feed/ and /wp-json/,
// which the web installer would switch on after probing the server) and an application password for
// the REST API (https://developer.wordpress.org/rest-api/using-the-rest-api/authentication/).
// Prints one JSON line: {"user": ..., "application_password": ...}.
$docroot = $argv[1];
$run = json_decode(file_get_contents($docroot . '/run.json'), true);
$parts = parse_url($run['url']);
$_SERVER['HTTP_HOST'] = $parts['host'] . ':' . $parts['port'];
$_SERVER['SERVER_NAME'] = $parts['host'];
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$result = wp_install('Resonanz Testblog', $run['admin_user'], $run['admin_email'], true, '', $run['admin_password']);
if (is_wp_error($result)) {
    fwrite(STDERR, $result->get_error_message() . "\n");
    exit(1);
}
update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
update_option('default_comment_status', 'open');
update_option('comment_moderation', 0);
update_option('comment_previously_approved', 0);
update_option('posts_per_rss', 50);
flush_rewrite_rules(false);
$created = WP_Application_Passwords::create_new_application_password(
    $result['user_id'], ['name' => 'resonanz-tests']
);
if (is_wp_error($created)) {
    fwrite(STDERR, $created->get_error_message() . "\n");
    exit(1);
}
echo json_encode(['user' => $run['admin_user'], 'application_password' => $created[0]]), "\n";
