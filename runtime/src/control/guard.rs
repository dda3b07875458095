//! The guard in front of every route: refuses requests for a host that is not
//! ours (DNS rebinding), state changes and WebSocket upgrades from pages of
//! foreign origins, and state changes without the token; answers CORS
//! preflights for our origins only and lets our origins read responses.
//!
//! The decision ([`admit`]) reads the method and headers alone, so it is
//! tested without a server; [`guard`] applies it as an axum middleware.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::control::access::Access;
use crate::control::error::ApiError;
use crate::control::state::ControlState;

/// How long a browser may cache a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Whether the request carries the bearer token: handlers then show secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized(pub bool);

/// What to do with a request that may go on.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// A CORS preflight from one of our origins: answer it here.
    Preflight {
        /// The origin to allow.
        origin: HeaderValue,
        /// The headers it asked to send.
        headers: Option<HeaderValue>,
        /// Whether it asked to reach a private network (Chrome's Private Network Access).
        private_network: bool,
    },
    /// Hand it to the routes.
    Pass {
        /// The origin that may read the response (one of ours), if it sent one.
        cors: Option<HeaderValue>,
        /// Whether it carries the token.
        authorized: bool,
    },
}

/// Decides on a request from its method and headers.
pub fn admit(access: &Access, method: &Method, headers: &HeaderMap) -> Result<Admit, ApiError> {
    // A request without `Host` is not from a browser; HTTP/1.1 clients all send one.
    let host = match headers.get(header::HOST) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(host) if access.serves_host(host) => Some(host),
            _ => return Err(foreign_host(access, value)),
        },
    };
    let origin = headers.get(header::ORIGIN);
    let ours = origin.map(|o| o.to_str().is_ok_and(|o| access.origin_is_ours(o, host)));
    let refuse_origin = || ApiError::ForeignOrigin {
        origin: origin.map_or_else(String::new, |o| String::from_utf8_lossy(o.as_bytes()).into_owned()),
    };
    if method == Method::OPTIONS
        && let Some(origin) = origin
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        if ours != Some(true) {
            return Err(refuse_origin());
        }
        return Ok(Admit::Preflight {
            origin: origin.clone(),
            headers: headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
            private_network: headers
                .get("access-control-request-private-network")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
        });
    }
    let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    // Browsers open WebSockets to any origin without CORS: the server must look.
    if (changes_state || is_websocket(headers)) && ours == Some(false) {
        return Err(refuse_origin());
    }
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let authorized = access.carries_token(authorization);
    if changes_state && access.has_token() && !authorized {
        return Err(ApiError::Unauthorized);
    }
    Ok(Admit::Pass {
        cors: origin.filter(|_| ours == Some(true)).cloned(),
        authorized,
    })
}

fn foreign_host(access: &Access, value: &HeaderValue) -> ApiError {
    let host = String::from_utf8_lossy(value.as_bytes()).into_owned();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map_or(host.clone(), |ip| format!("[{ip}]")),
        None => host.split(':').next().unwrap_or_default().to_string(),
    };
    ApiError::ForeignHost {
        host,
        name,
        allowed: access.describe_hosts(),
    }
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("websocket")))
}

/// The middleware: every request passes [`admit`] first.
pub async fn guard(State(state): State<ControlState>, mut request: Request, next: Next) -> Response {
    let mut response = match admit(&state.access, request.method(), request.headers()) {
        Err(err) => err.into_response(),
        Ok(Admit::Preflight {
            origin,
            headers,
            private_network,
        }) => preflight(origin, headers, private_network),
        Ok(Admit::Pass { cors, authorized }) => {
            request.extensions_mut().insert(Authorized(authorized));
            let mut response = next.run(request).await;
            if let Some(origin) = cors {
                response
                    .headers_mut()
                    .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
            response
        }
    };
    // What a cache keeps for one origin (or for none) must not be served to another.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// The answer to a preflight from one of our origins.
fn preflight(origin: HeaderValue, headers: Option<HeaderValue>, private_network: bool) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE"),
    );
    if let Some(headers) = headers {
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers);
    }
    if private_network {
        out.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
    }
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    out.insert(header::VARY, HeaderValue::from_static("access-control-request-headers"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(token: Option<&str>) -> Access {
        Access::new("127.0.0.1:8800".parse().expect("an address"), token.map(String::from))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (header::HeaderName::from_static(name), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn a_foreign_host_is_refused_on_every_method_and_told_how_to_allow_it() {
        for method in [Method::GET, Method::POST, Method::OPTIONS] {
            let err = admit(&access(None), &method, &headers(&[("host", "evil.example:8800")])).expect_err("refused");
            assert!(matches!(err, ApiError::ForeignHost { .. }), "{err:?}");
            assert!(err.to_string().contains("--allow-host evil.example`"), "{err}");
        }
    }

    #[test]
    fn a_foreign_page_cannot_change_state_or_open_events_but_may_load_pictures() {
        let evil = [("host", "127.0.0.1:8800"), ("origin", "http://evil.example")];
        let err = admit(&access(None), &Method::POST, &headers(&evil)).expect_err("refused");
        assert!(matches!(err, ApiError::ForeignOrigin { .. }), "{err:?}");
        let upgrade = [evil[0], evil[1], ("upgrade", "websocket"), ("connection", "Upgrade")];
        assert!(admit(&access(None), &Method::GET, &headers(&upgrade)).is_err());
        // An `<img>` of another site shows the picture but cannot read it: no CORS.
        assert_eq!(
            admit(&access(None), &Method::GET, &headers(&evil)).expect("admitted"),
            Admit::Pass {
                cors: None,
                authorized: false
            }
        );
    }

    #[test]
    fn scripts_without_an_origin_pass_with_the_token_when_one_is_set() {
        let plain = [("host", "127.0.0.1:8800")];
        assert!(admit(&access(None), &Method::POST, &headers(&plain)).is_ok());
        assert!(matches!(
            admit(&access(Some("t0k")), &Method::POST, &headers(&plain)),
            Err(ApiError::Unauthorized)
        ));
        let with_token = [plain[0], ("authorization", "Bearer t0k")];
        assert_eq!(
            admit(&access(Some("t0k")), &Method::POST, &headers(&with_token)).expect("admitted"),
            Admit::Pass {
                cors: None,
                authorized: true
            }
        );
    }

    #[test]
    fn preflights_are_answered_for_our_origins_only() {
        let ask = |origin: &'static str| {
            headers(&[
                ("host", "127.0.0.1:8800"),
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
                ("access-control-request-private-network", "true"),
            ])
        };
        assert!(matches!(
            admit(&access(None), &Method::OPTIONS, &ask("http://evil.example")),
            Err(ApiError::ForeignOrigin { .. })
        ));
        assert_eq!(
            admit(&access(None), &Method::OPTIONS, &ask("http://localhost:8800")).expect("admitted"),
            Admit::Preflight {
                origin: HeaderValue::from_static("http://localhost:8800"),
                headers: Some(HeaderValue::from_static("content-type")),
                private_network: true,
            }
        );
    }

    #[test]
    fn our_origins_may_read_responses() {
        let ours = [("host", "127.0.0.1:8800"), ("origin", "http://localhost:8800")];
        assert_eq!(
            admit(&access(None), &Method::GET, &headers(&ours)).expect("admitted"),
            Admit::Pass {
                cors: Some(HeaderValue::from_static("http://localhost:8800")),
                authorized: false
            }
        );
    }
}
