//! Headless Chromium driven over WebDriver (chromedriver), for tests that
//! need a real browser: pages, media elements, JavaScript players.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::{free_port, wait_for};

/// Where Debian's packages put them (scripts/test.sh installs them).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One headless Chromium session; the browser and its driver end when dropped.
pub struct Browser {
    driver: Child,
    session: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with its profile in `profile`.
    pub fn start(profile: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("{CHROMEDRIVER}: {err} (scripts/test.sh installs Debian's chromium and chromium-driver)")
            });
        let mut browser = Browser {
            driver,
            session: format!("http://127.0.0.1:{port}/session"),
        };
        let ready = wait_for(Duration::from_secs(20), || {
            ureq::get(&format!("http://127.0.0.1:{port}/status")).call().is_ok()
        });
        assert!(ready, "chromedriver did not answer within 20 s");
        // Without the networking flags Chromium keeps calling services this
        // machine cannot reach; autoplay needs no click.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let created = browser.call("POST", "", &capabilities);
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session from chromedriver: {created}"));
        browser.session = format!("{}/{id}", browser.session);
        browser
    }

    /// Opens `url` and waits for it to load.
    pub fn open(&self, url: &str) {
        self.call("POST", "/url", &json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns what it returns.
    pub fn run(&self, script: &str, args: &[Value]) -> Value {
        self.call("POST", "/execute/sync", &json!({ "script": script, "args": args }))
    }

    /// One WebDriver command; panics on an error, with the driver's message.
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        self.request(method, path, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
    }

    /// One WebDriver command: its `value`, or what went wrong.
    fn request(&self, method: &str, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        let response = match method {
            "POST" => ureq::post(&url)
                .config()
                .http_status_as_error(false)
                .build()
                .content_type("application/json")
                .send(body.to_string()),
            _ => ureq::delete(&url).config().http_status_as_error(false).build().call(),
        };
        let mut response = response.map_err(|err| err.to_string())?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|err| err.to_string())?;
        let reply: Value = serde_json::from_str(&text).map_err(|err| format!("{err}: {text}"))?;
        if !status.is_success() {
            return Err(format!("{status}: {}", reply["value"]));
        }
        Ok(reply["value"].clone())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.ends_with("/session") {
            let _ = self.request("DELETE", "", &Value::Null);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
