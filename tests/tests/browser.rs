//! The security page in a real headless Chromium, driven over the Chrome DevTools
//! Protocol: two browser contexts with separate cookie jars sign in as the same user,
//! one revokes the other from the page, and the revoked one is signed out, its
//! remember-me cookie included.
//!
//! The browser is `/usr/bin/chromium` (Debian's `chromium` package) or the file named by
//! `AUTH_TRACKER_CHROMIUM`. Without it the test reports a skip, or fails when
//! `AUTH_TRACKER_REQUIRE_BACKENDS` lists `chromium`. Screenshots are written to
//! `test-artifacts/browser/` in the cargo target folder.

use std::fmt::Display;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_tracker_tests::user_agents::CHROME_ANDROID;
use auth_tracker_tests::{Demo, skip_backend};
use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{
    Cookie, CookieParam, CookieSameSite, DeleteCookiesParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt;
use serde_json::Value;

const ALICE: (&str, &str) = ("alice@example.com", "alice-password");

/// Environment variable naming the Chromium binary to drive.
const CHROMIUM_VAR: &str = "AUTH_TRACKER_CHROMIUM";

/// Where Debian's `chromium` package installs the browser.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// Time limit of one step: launching the browser, one CDP command, or an action with
/// the page load it starts.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Time limit of the whole flow, which normally takes a few seconds. It bounds a run in
/// which many steps are slow without any one of them reaching [`STEP_TIMEOUT`].
const FLOW_TIMEOUT: Duration = Duration::from_secs(180);

/// Cookie name of the tower-sessions session id, which the demo keeps at its default.
const SESSION_COOKIE: &str = "id";

/// Returns the Chromium binary to drive, or `None` after reporting the skip.
///
/// # Panics
///
/// When [`CHROMIUM_VAR`] names a path that is not a file.
fn chromium_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(CHROMIUM_VAR) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{CHROMIUM_VAR} is set to {}, which is not a file: point it at a Chromium binary or unset it",
            path.display()
        );
        return Some(path);
    }
    let path = Path::new(DEFAULT_CHROMIUM);
    if path.is_file() {
        return Some(path.to_owned());
    }
    skip_backend(
        "chromium",
        &format!(
            "{DEFAULT_CHROMIUM} is missing and {CHROMIUM_VAR} is not set \
             (install Debian's chromium package)"
        ),
    );
    None
}

/// Awaits one step of the flow and returns its value.
///
/// # Panics
///
/// When the step fails or runs longer than [`STEP_TIMEOUT`], with the step's name.
async fn step<T, E: Display>(name: &str, future: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, future).await {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => panic!("step failed: {name}: {error}"),
        Err(_) => panic!("step timed out after {} s: {name}", STEP_TIMEOUT.as_secs()),
    }
}

/// A headless Chromium process with its own empty profile folder.
///
/// Fields drop in declaration order: the browser first, which kills the process because
/// chromiumoxide spawns it with tokio's `kill_on_drop`, then the profile, which waits for
/// the browser's helper processes to exit before removing the folder.
struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    profile: Profile,
}

impl Chromium {
    /// Starts Chromium headless with a new profile folder and no network traffic of its
    /// own: no background updates, sync, QUIC or first-run pages.
    async fn launch(binary: &Path) -> Self {
        let profile = Profile::create();
        // chromiumoxide adds --headless, --no-sandbox, --remote-debugging-port=0,
        // --user-data-dir and puppeteer's default switches. Even with background
        // networking off, Debian's Chromium 156 looked up Google hosts during this test,
        // such as content-autofill.googleapis.com for the sign-in form, so the resolver
        // rules answer every name lookup with "not found" and no DNS query is sent.
        let config = BrowserConfig::builder()
            .chrome_executable(binary)
            .user_data_dir(profile.path())
            .no_sandbox()
            .args([
                "disable-background-networking",
                "disable-component-update",
                "disable-gpu",
                "disable-quic",
                "disable-sync",
                "no-first-run",
            ])
            .arg(("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"))
            .window_size(1024, 768)
            .viewport(Viewport {
                width: 1024,
                height: 768,
                ..Viewport::default()
            })
            .launch_timeout(STEP_TIMEOUT)
            .request_timeout(STEP_TIMEOUT)
            .build()
            .expect("valid Chromium settings");

        let (browser, mut handler) = step("launch Chromium", Browser::launch(config)).await;
        // The handler carries every CDP message, so it runs until the connection ends.
        // After an error it stops, which makes pending and later commands fail at once
        // instead of timing out.
        let handler = tokio::spawn(async move {
            while let Some(result) = handler.next().await {
                if let Err(error) = result {
                    eprintln!("Chromium connection failed: {error}");
                    break;
                }
            }
        });
        Self {
            browser,
            handler,
            profile,
        }
    }

    /// Creates a browser context, which shares no cookies, cache or storage with the
    /// other contexts, like a separate incognito profile.
    async fn new_context(&self, label: &str) -> BrowserContextId {
        step(
            &format!("create the browser context of {label}"),
            self.browser
                .create_browser_context(CreateBrowserContextParams::default()),
        )
        .await
    }

    /// Opens a blank page in `context`.
    async fn open_page(&self, label: &str, context: &BrowserContextId) -> Page {
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .expect("valid page settings");
        step(
            &format!("open a page of {label}"),
            self.browser.new_page(params),
        )
        .await
    }

    /// Closes the browser, waits for it to exit, and checks that no process of its
    /// profile is left running.
    async fn close(&mut self) {
        step("close Chromium", self.browser.close()).await;
        step("wait for Chromium to exit", self.browser.wait()).await;
        let left = tokio::task::block_in_place(|| self.profile.wait_for_processes(STEP_TIMEOUT));
        assert!(
            left.is_empty(),
            "Chromium processes {left:?} still run {} s after the browser closed",
            STEP_TIMEOUT.as_secs()
        );
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.handler.abort();
    }
}

/// The temporary `--user-data-dir` of one Chromium process.
struct Profile(tempfile::TempDir);

impl Profile {
    fn create() -> Self {
        let folder = tempfile::Builder::new()
            .prefix("auth-tracker-chromium-")
            .tempdir()
            .expect("temporary profile folder");
        Self(folder)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Returns the ids of running processes started with this profile folder. Chromium
    /// 156 passes `--user-data-dir` on to every helper process (zygote, renderer, GPU,
    /// utility), so this finds all of them, also after the browser process has gone.
    fn processes(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| self.is_in_command_line(&cmdline))
            })
            .collect()
    }

    /// Tells whether `cmdline`, the contents of `/proc/PID/cmdline`, has this profile's
    /// `--user-data-dir` switch. The browser process separates its arguments with NUL
    /// bytes, but helper processes rewrite their command line into one string with
    /// spaces between the arguments.
    fn is_in_command_line(&self, cmdline: &[u8]) -> bool {
        let switch = format!("--user-data-dir={}", self.path().display());
        let cmdline = String::from_utf8_lossy(cmdline);
        cmdline.match_indices(&switch).any(|(start, _)| {
            let next = cmdline[start + switch.len()..].chars().next();
            matches!(next, None | Some('\0' | ' '))
        })
    }

    /// Waits up to `limit` for the processes of this profile to exit and returns those
    /// still running.
    fn wait_for_processes(&self, limit: Duration) -> Vec<u32> {
        let deadline = Instant::now() + limit;
        loop {
            let running = self.processes();
            if running.is_empty() || Instant::now() >= deadline {
                return running;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        // Helper processes exit by themselves once the browser process is gone. Removing
        // the folder while they still write to it could leave parts of it behind.
        let left = self.wait_for_processes(Duration::from_secs(10));
        if !left.is_empty() {
            eprintln!(
                "Chromium processes {left:?} of profile {} are still running",
                self.path().display()
            );
        }
    }
}

/// Errors that the watched pages report to the DevTools console: `console.error` calls,
/// uncaught exceptions, and browser log entries such as failed resource loads.
#[derive(Clone, Default)]
struct ConsoleErrors(Arc<Mutex<Vec<String>>>);

impl ConsoleErrors {
    /// Starts collecting the errors of `page`, labelled with `label`.
    async fn watch(&self, label: &'static str, page: &Page) {
        step(&format!("enable the log of {label}"), page.enable_log()).await;

        let mut calls = step(
            &format!("listen to console calls of {label}"),
            page.event_listener::<EventConsoleApiCalled>(),
        )
        .await;
        let errors = self.0.clone();
        tokio::spawn(async move {
            while let Some(call) = calls.next().await {
                if call.r#type == ConsoleApiCalledType::Error {
                    let text = describe_arguments(&call.args);
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("{label}: console.error: {text}"));
                }
            }
        });

        let mut exceptions = step(
            &format!("listen to exceptions of {label}"),
            page.event_listener::<EventExceptionThrown>(),
        )
        .await;
        let errors = self.0.clone();
        tokio::spawn(async move {
            while let Some(exception) = exceptions.next().await {
                let details = &exception.exception_details;
                let description = details
                    .exception
                    .as_ref()
                    .and_then(|exception| exception.description.clone())
                    .unwrap_or_default();
                errors.lock().unwrap().push(format!(
                    "{label}: uncaught exception: {} {description}",
                    details.text
                ));
            }
        });

        let mut entries = step(
            &format!("listen to log entries of {label}"),
            page.event_listener::<EventEntryAdded>(),
        )
        .await;
        let errors = self.0.clone();
        tokio::spawn(async move {
            while let Some(entry) = entries.next().await {
                let entry = &entry.entry;
                if entry.level == LogEntryLevel::Error {
                    let url = entry.url.as_deref().unwrap_or("no URL");
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("{label}: {} ({url})", entry.text));
                }
            }
        });
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn describe_arguments(arguments: &[RemoteObject]) -> String {
    arguments
        .iter()
        .map(|argument| match (&argument.value, &argument.description) {
            (Some(Value::String(text)), _) => text.clone(),
            (Some(value), _) => value.to_string(),
            (None, Some(description)) => description.clone(),
            (None, None) => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Evaluates `expression` in the page and returns its JSON value.
async fn evaluate(page: &Page, name: &str, expression: &str) -> Value {
    let result = step(name, page.evaluate(expression)).await;
    result
        .into_value::<Value>()
        .unwrap_or_else(|error| panic!("step failed: {name}: the result is not JSON: {error}"))
}

/// Runs `action`, which makes the page navigate, waits until the new document has
/// loaded, and returns its path.
///
/// The old document is marked before the action, so a page that reloads at the same URL
/// still counts as a new document.
async fn load_by<T, E: Display>(
    page: &Page,
    name: &str,
    action: impl Future<Output = Result<T, E>>,
) -> String {
    evaluate(
        page,
        &format!("{name}: mark the old document"),
        "window.replacedByNavigation = true",
    )
    .await;
    step(name, action).await;

    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut last_state = Value::Null;
    loop {
        // Evaluations fail while the old document is torn down, so such errors count as
        // "not loaded yet".
        let state = tokio::time::timeout(
            Duration::from_secs(2),
            page.evaluate(
                "({ path: location.pathname, readyState: document.readyState, \
                 old: window.replacedByNavigation === true })",
            ),
        )
        .await;
        if let Ok(Ok(result)) = state {
            last_state = result.into_value().unwrap_or(Value::Null);
            if last_state["old"] == false && last_state["readyState"] == "complete" {
                return last_state["path"].as_str().unwrap_or_default().to_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "step timed out after {} s: {name}: no new document loaded, last state {last_state}",
            STEP_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `url` in the page and returns the path of the document it lands on, after any
/// redirect.
async fn visit(page: &Page, name: &str, url: &str) -> String {
    load_by(page, name, page.goto(url)).await
}

/// Signs `page` in through the sign-in form, typing and clicking like a person.
async fn sign_in_with_form(page: &Page, demo: &Demo, label: &str, remember: bool) {
    let path = visit(page, &format!("{label} opens /login"), &demo.url("/login")).await;
    assert_eq!(path, "/login", "{label} sees the sign-in page");

    let email = step(
        &format!("{label} finds the email field"),
        page.find_element("form[action='/login'] input[name=email]"),
    )
    .await;
    step(&format!("{label} clicks the email field"), email.click()).await;
    step(&format!("{label} types the email"), email.type_str(ALICE.0)).await;

    let password = step(
        &format!("{label} finds the password field"),
        page.find_element("form[action='/login'] input[name=password]"),
    )
    .await;
    step(
        &format!("{label} clicks the password field"),
        password.click(),
    )
    .await;
    step(
        &format!("{label} types the password"),
        password.type_str(ALICE.1),
    )
    .await;

    if remember {
        let checkbox = step(
            &format!("{label} finds the remember-me box"),
            page.find_element("form[action='/login'] input[name=remember]"),
        )
        .await;
        step(
            &format!("{label} ticks the remember-me box"),
            checkbox.click(),
        )
        .await;
        let ticked = evaluate(
            page,
            &format!("{label} reads the remember-me box"),
            "document.querySelector(\"input[name=remember]\").checked",
        )
        .await;
        assert_eq!(ticked, true, "{label}'s click ticks the remember-me box");
    }

    let submit = step(
        &format!("{label} finds the sign-in button"),
        page.find_element("form[action='/login'] button[type=submit]"),
    )
    .await;
    let path = load_by(
        page,
        &format!("{label} submits the sign-in form"),
        submit.click(),
    )
    .await;
    assert_eq!(path, "/security", "{label} lands on the security page");
}

/// One login row of the security page, as the browser rendered it.
#[derive(Debug)]
struct LoginRow {
    id: String,
    /// Text of the row's badge, such as "This device".
    badge: Option<String>,
    /// Rendered text of the row.
    text: String,
    /// Label of the row's button.
    button: String,
    /// Target of the row's form.
    action: String,
}

/// Reads the login rows from the rendered page.
async fn login_rows(page: &Page, name: &str) -> Vec<LoginRow> {
    let rows = evaluate(
        page,
        name,
        "Array.from(document.querySelectorAll('tr[data-login-id]'), row => ({ \
            id: row.dataset.loginId, \
            badge: row.querySelector('.badge')?.innerText ?? null, \
            text: row.innerText, \
            button: row.querySelector('form button')?.innerText ?? null, \
            action: row.querySelector('form')?.getAttribute('action') ?? null \
        }))",
    )
    .await;
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("{name}: expected an array of rows, got {rows}"));
    rows.iter()
        .map(|row| LoginRow {
            id: row["id"].as_str().unwrap_or_default().to_owned(),
            badge: row["badge"].as_str().map(str::to_owned),
            text: row["text"].as_str().unwrap_or_default().to_owned(),
            button: row["button"].as_str().unwrap_or_default().to_owned(),
            action: row["action"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// Returns the row marked "This device", checking that it is the only one.
fn this_device<'a>(rows: &'a [LoginRow], label: &str) -> &'a LoginRow {
    let marked: Vec<&LoginRow> = rows.iter().filter(|row| row.badge.is_some()).collect();
    assert_eq!(
        marked.len(),
        1,
        "{label}'s page marks one login as this device: {rows:#?}"
    );
    let row = marked[0];
    assert_eq!(row.badge.as_deref(), Some("This device"), "{row:#?}");
    assert_eq!(
        row.button, "Sign out",
        "the current login's button signs out: {row:#?}"
    );
    row
}

async fn cookie(page: &Page, label: &str, name: &str) -> Option<Cookie> {
    let cookies = step(&format!("{label} reads its cookies"), page.get_cookies()).await;
    cookies.into_iter().find(|cookie| cookie.name == name)
}

/// Returns the folder for screenshots, `test-artifacts/browser` in the cargo target
/// folder, found from this test binary's path `<target>/<profile>/deps/<binary>`.
fn artifacts_folder() -> PathBuf {
    let binary = std::env::current_exe().expect("path of the test binary");
    let deps = binary.parent().expect("folder of the test binary");
    assert_eq!(
        deps.file_name().and_then(|name| name.to_str()),
        Some("deps"),
        "the test binary {} is not in a cargo target folder",
        binary.display()
    );
    let target = deps
        .ancestors()
        .nth(2)
        .expect("cargo target folder above <profile>/deps");
    let folder = target.join("test-artifacts").join("browser");
    std::fs::create_dir_all(&folder)
        .unwrap_or_else(|error| panic!("failed to create {}: {error}", folder.display()));
    folder
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Takes a screenshot of the whole page, checks that it is a PNG image, writes it to the
/// artifacts folder and returns its path.
async fn save_screenshot(page: &Page, file_name: &str) -> PathBuf {
    let params = ScreenshotParams::builder()
        .format(CaptureScreenshotFormat::Png)
        .full_page(true)
        .build();
    let png = step(
        &format!("take the screenshot {file_name}"),
        page.screenshot(params),
    )
    .await;
    assert!(
        png.starts_with(PNG_SIGNATURE),
        "{file_name} starts with the PNG signature"
    );
    // The IHDR chunk follows the signature: length, type, then width and height.
    assert!(png.len() > 24, "{file_name} has an IHDR chunk");
    assert_eq!(&png[12..16], b"IHDR", "{file_name} has an IHDR chunk");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 0, "{file_name} has a width");
    assert!(height > 0, "{file_name} has a height");

    let path = artifacts_folder().join(file_name);
    std::fs::write(&path, &png)
        .unwrap_or_else(|error| panic!("failed to write {}: {error}", path.display()));
    let written = std::fs::read(&path).expect("the screenshot reads back");
    assert!(
        written.starts_with(PNG_SIGNATURE),
        "{} contains the PNG",
        path.display()
    );
    println!(
        "screenshot: {} ({width}x{height}, {} bytes)",
        path.display(),
        png.len()
    );
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn revoke_signs_other_browser_out() {
    let Some(binary) = chromium_binary() else {
        return;
    };
    // A timeout drops the flow, and with it the browser, which kills Chromium.
    if tokio::time::timeout(FLOW_TIMEOUT, revoke_flow(&binary))
        .await
        .is_err()
    {
        panic!(
            "the browser flow timed out after {} s",
            FLOW_TIMEOUT.as_secs()
        );
    }
}

/// Signs two browser contexts in, revokes one from the other's security page, and
/// checks that the revoked one is signed out.
async fn revoke_flow(binary: &Path) {
    let demo = Demo::start_sqlite().await;
    let remember_cookie = security_page::demo_config().remember_cookie_name;
    let mut chromium = Chromium::launch(binary).await;
    let console = ConsoleErrors::default();

    // Two contexts: "desktop" keeps Chromium's own User-Agent and "phone" claims to be
    // Chrome on Android, so the page lists two different devices.
    let desktop_context = chromium.new_context("desktop").await;
    let desktop = chromium.open_page("desktop", &desktop_context).await;
    let phone_context = chromium.new_context("phone").await;
    let phone = chromium.open_page("phone", &phone_context).await;
    step(
        "phone sets its User-Agent",
        phone.set_user_agent(CHROME_ANDROID),
    )
    .await;
    console.watch("desktop", &desktop).await;
    console.watch("phone", &phone).await;

    sign_in_with_form(&desktop, &demo, "desktop", false).await;
    sign_in_with_form(&phone, &demo, "phone", true).await;
    assert!(
        cookie(&desktop, "desktop", &remember_cookie)
            .await
            .is_none(),
        "desktop left the remember-me box unticked and got no remember-me cookie"
    );

    // The phone's remember-me cookie alone signs it in again, as after a browser
    // restart, and it stays one login. This makes the check after the revocation
    // meaningful.
    let remembered = cookie(&phone, "phone", &remember_cookie)
        .await
        .expect("phone got a remember-me cookie");
    assert!(remembered.http_only, "the remember-me cookie is HttpOnly");
    let first_session = cookie(&phone, "phone", SESSION_COOKIE)
        .await
        .expect("phone got a session cookie");
    step(
        "phone deletes its session cookie",
        phone.delete_cookie(
            DeleteCookiesParams::builder()
                .name(SESSION_COOKIE)
                .url(demo.base_url.clone())
                .build()
                .expect("valid cookie deletion"),
        ),
    )
    .await;
    let path = visit(
        &phone,
        "phone opens /security with only its remember-me cookie",
        &demo.url("/security"),
    )
    .await;
    assert_eq!(
        path, "/security",
        "the remember-me cookie signs the phone in"
    );
    let second_session = cookie(&phone, "phone", SESSION_COOKIE)
        .await
        .expect("the remember-me cookie started a new session");
    assert_ne!(
        second_session.value, first_session.value,
        "the new session has a new id"
    );

    // Each context lists both logins and marks its own.
    let path = visit(&desktop, "desktop opens /security", &demo.url("/security")).await;
    assert_eq!(path, "/security");
    let desktop_rows = login_rows(&desktop, "desktop reads its login rows").await;
    let phone_rows = login_rows(&phone, "phone reads its login rows").await;
    assert_eq!(
        desktop_rows.len(),
        2,
        "desktop sees two logins: {desktop_rows:#?}"
    );
    assert_eq!(
        phone_rows.len(),
        2,
        "phone sees two logins: {phone_rows:#?}"
    );
    let desktop_login = this_device(&desktop_rows, "desktop").id.clone();
    let phone_login = this_device(&phone_rows, "phone").id.clone();
    assert_ne!(desktop_login, phone_login, "two distinct logins");
    let mut desktop_ids: Vec<&str> = desktop_rows.iter().map(|row| row.id.as_str()).collect();
    let mut phone_ids: Vec<&str> = phone_rows.iter().map(|row| row.id.as_str()).collect();
    desktop_ids.sort_unstable();
    phone_ids.sort_unstable();
    assert_eq!(desktop_ids, phone_ids, "both list the same logins");

    let phone_row = desktop_rows
        .iter()
        .find(|row| row.id == phone_login)
        .expect("desktop lists the phone's login");
    assert!(
        phone_row.text.contains("Android"),
        "the phone's login shows its device: {phone_row:#?}"
    );
    assert_eq!(phone_row.button, "Revoke", "{phone_row:#?}");
    assert_eq!(
        phone_row.action,
        format!("/logins/{phone_login}/revoke"),
        "{phone_row:#?}"
    );
    let desktop_row = desktop_rows
        .iter()
        .find(|row| row.id == desktop_login)
        .expect("desktop lists its own login");
    assert!(
        desktop_row.text.contains("Linux"),
        "the desktop's login shows Chromium's own platform: {desktop_row:#?}"
    );
    save_screenshot(&desktop, "security-page-two-logins.png").await;

    // The desktop revokes the phone with the button in the phone's row.
    let revoke = step(
        "desktop finds the phone's revoke button",
        desktop.find_element(format!("tr[data-login-id='{phone_login}'] form button")),
    )
    .await;
    let path = load_by(
        &desktop,
        "desktop clicks the phone's revoke button",
        revoke.click(),
    )
    .await;
    assert_eq!(path, "/security", "revoking returns to the security page");
    let rows = login_rows(&desktop, "desktop reads its rows after revoking").await;
    assert_eq!(rows.len(), 1, "one login is left: {rows:#?}");
    assert_eq!(this_device(&rows, "desktop").id, desktop_login);
    save_screenshot(&desktop, "security-page-after-revoke.png").await;

    // The phone is signed out on its next page load, and its remember-me cookie is
    // rejected and removed.
    let path = visit(
        &phone,
        "phone opens /security after the revocation",
        &demo.url("/security"),
    )
    .await;
    assert_eq!(
        path, "/login",
        "the revoked phone is sent to the sign-in page"
    );
    let form = evaluate(
        &phone,
        "phone looks for the sign-in form",
        "document.querySelector(\"form[action='/login']\") !== null",
    )
    .await;
    assert_eq!(form, true, "the phone sees the sign-in form");
    assert!(
        cookie(&phone, "phone", &remember_cookie).await.is_none(),
        "the server removed the phone's remember-me cookie"
    );
    save_screenshot(&phone, "phone-signed-out.png").await;

    // A browser that kept the old remember-me cookie, say from a backup of its
    // profile, is not signed back in with it.
    step(
        "phone deletes its session cookie again",
        phone.delete_cookie(
            DeleteCookiesParams::builder()
                .name(SESSION_COOKIE)
                .url(demo.base_url.clone())
                .build()
                .expect("valid cookie deletion"),
        ),
    )
    .await;
    step(
        "phone restores its old remember-me cookie",
        phone.set_cookie(
            CookieParam::builder()
                .name(remember_cookie.clone())
                .value(remembered.value.clone())
                .url(demo.base_url.clone())
                .path("/")
                .http_only(true)
                .same_site(CookieSameSite::Lax)
                .build()
                .expect("valid cookie"),
        ),
    )
    .await;
    assert!(
        cookie(&phone, "phone", &remember_cookie).await.is_some(),
        "the old remember-me cookie is back in the phone's jar"
    );
    let path = visit(
        &phone,
        "phone opens /security with the revoked remember-me cookie",
        &demo.url("/security"),
    )
    .await;
    assert_eq!(
        path, "/login",
        "the revoked remember-me cookie does not sign the phone in"
    );

    // A page from another site, opened in the desktop's context so the browser stores
    // the desktop's cookies, posts the "Sign out everywhere" form. Chromium marks the
    // request `Sec-Fetch-Site: cross-site`, and the demo rejects it.
    let attacker = chromium
        .open_page("a cross-site page", &desktop_context)
        .await;
    let attack = format!(
        "data:text/html,<form method=post action='{}'><button>Claim your prize</button></form>",
        demo.url("/logins/revoke-all")
    );
    visit(&attacker, "open a cross-site page", &attack).await;
    let button = step(
        "find the cross-site form's button",
        attacker.find_element("button"),
    )
    .await;
    let path = load_by(
        &attacker,
        "click the cross-site form's button",
        button.click(),
    )
    .await;
    assert_eq!(
        path, "/logins/revoke-all",
        "the cross-site form posted to the demo"
    );
    let status = evaluate(
        &attacker,
        "read the status of the cross-site post",
        "performance.getEntriesByType('navigation')[0].responseStatus",
    )
    .await;
    assert_eq!(status, 403, "the demo rejects the cross-site post");
    let body = evaluate(
        &attacker,
        "read the answer to the cross-site post",
        "document.body.innerText",
    )
    .await;
    assert_eq!(body, "cross-site requests are not allowed");

    let path = visit(
        &desktop,
        "desktop opens /security at the end",
        &demo.url("/security"),
    )
    .await;
    assert_eq!(path, "/security", "the desktop stays signed in");
    let rows = login_rows(&desktop, "desktop reads its rows at the end").await;
    assert_eq!(
        rows.len(),
        1,
        "the phone's attempts added no login: {rows:#?}"
    );

    let errors = console.take();
    assert!(
        errors.is_empty(),
        "the pages reported console errors: {errors:#?}"
    );

    chromium.close().await;
}
