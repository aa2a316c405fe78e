//! HTML pages, rendered with maud so every value is escaped.

use auth_tracker::{Login, LoginKind};
use maud::{DOCTYPE, Markup, html};

use crate::users::User;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
.badge { background: #1f883d; color: white; border-radius: 1rem; padding: .1rem .6rem; font-size: .8rem; }
.muted { color: #656d76; }
form.inline { display: inline; }
button { cursor: pointer; }
.error { color: #cf222e; }
";

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // An empty icon, so browsers do not request /favicon.ico, which the demo
                // does not serve, and log its 404 as a console error.
                link rel="icon" href="data:,";
                style { (STYLE) }
            }
            body { (body) }
        }
    }
}

/// Renders the sign-in form, with an error line after a failed attempt.
pub(crate) fn login(error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action="/login" {
                p { label { "Email " input type="email" name="email" required autofocus; } }
                p { label { "Password " input type="password" name="password" required; } }
                p { label { input type="checkbox" name="remember" value="on"; " Remember me" } }
                p { button type="submit" { "Sign in" } }
            }
            p.muted { "Demo accounts: alice@example.com / alice-password, bob@example.com / bob-password" }
        },
    )
}

/// Renders the "where you're signed in" page.
pub(crate) fn security(user: &User, logins: &[Login]) -> Markup {
    layout(
        "Where you're signed in",
        html! {
            h1 { "Where you're signed in" }
            p { "Signed in as " strong { (user.email) } }
            table {
                thead { tr { th { "Device" } th { "Location" } th { "Last activity" } th {} } }
                tbody {
                    @for login in logins {
                        tr data-login-id=(login.id) {
                            td {
                                strong { (describe_client(login)) }
                                @if login.is_current { " " span.badge { "This device" } }
                                br;
                                span.muted { (describe_device(login)) }
                            }
                            td {
                                (login.location().unwrap_or_else(|| "Unknown location".to_owned()))
                                br;
                                span.muted { (login.ip_address.as_deref().unwrap_or("unknown IP")) }
                            }
                            td {
                                time datetime=(login.last_activity_at.to_rfc3339()) {
                                    (login.last_activity_at.format("%Y-%m-%d %H:%M UTC"))
                                }
                            }
                            td {
                                form.inline method="post" action={ "/logins/" (login.id) "/revoke" } {
                                    button type="submit" {
                                        @if login.is_current { "Sign out" } @else { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p {
                form.inline method="post" action="/logins/revoke-others" {
                    button type="submit" { "Sign out other devices" }
                }
                " "
                form.inline method="post" action="/logins/revoke-all" {
                    button type="submit" { "Sign out everywhere" }
                }
                " "
                form.inline method="post" action="/logout" {
                    button type="submit" { "Sign out" }
                }
            }
        },
    )
}

fn describe_client(login: &Login) -> String {
    if login.kind == LoginKind::Token {
        let name = login.name.as_deref().unwrap_or("unnamed");
        return format!("API token \u{201c}{name}\u{201d}");
    }
    let browser = match (&login.browser, &login.browser_version) {
        (Some(browser), Some(version)) => format!("{browser} {version}"),
        (Some(browser), None) => browser.clone(),
        (None, _) => "Unknown browser".to_owned(),
    };
    match (&login.platform, &login.platform_version) {
        (Some(platform), Some(version)) => format!("{browser} on {platform} {version}"),
        (Some(platform), None) => format!("{browser} on {platform}"),
        (None, _) => browser,
    }
}

fn describe_device(login: &Login) -> String {
    let device_type = login.device_type.map(|device_type| device_type.as_str());
    match (login.device.as_deref(), device_type) {
        (Some(device), Some(device_type)) => format!("{device} ({device_type})"),
        (Some(device), None) => device.to_owned(),
        (None, Some(device_type)) => device_type.to_owned(),
        (None, None) => "Unknown device".to_owned(),
    }
}
