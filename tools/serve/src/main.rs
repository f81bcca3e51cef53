//! `scalelab-serve`: serves scalelab's static page (`www/`) on 127.0.0.1 with the headers
//! that threaded wasm needs and a locked-down policy.
//!
//! - `Cross-Origin-Opener-Policy: same-origin` + `Cross-Origin-Embedder-Policy: require-corp`
//!   make the page cross-origin isolated, which is what unlocks `SharedArrayBuffer`
//!   (and so wasm threads) in browsers.
//! - A strict `Content-Security-Policy`: everything from our own origin only, plus
//!   `'wasm-unsafe-eval'` so `WebAssembly.instantiate` may compile our module; no inline
//!   script, no `eval`.
//! - Files are served by tower-http's `ServeDir`, which rejects `..` segments; on top of
//!   that, a request whose resolved file lies outside the root (a symlink pointing out) is
//!   answered 404.
//!
//! Usage: `scalelab-serve [--root DIR] [--port N]` (port also from `PORT`; 0 picks a free
//! port). It prints the URL and stops cleanly on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The page's Content-Security-Policy: same origin only; wasm compilation allowed.
/// Scripts and workers come from this origin's files only (`build.sh` makes
/// wasm-bindgen-rayon start its threads from its helper's URL, not a `blob:` copy);
/// images may also be `data:`/`blob:` (chart PNGs), which can run no code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// [`CONTENT_SECURITY_POLICY`] without the directives a `<meta>` element may not carry.
fn meta_csp() -> String {
    CONTENT_SECURITY_POLICY
        .split(';')
        .map(str::trim)
        .filter(|directive| !directive.starts_with("frame-ancestors"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Headers set on every response (files, directory indexes and errors alike).
const RESPONSE_HEADERS: [(&str, &str); 7] = [
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-resource-policy", "same-origin"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    // The page is rebuilt often during development; always revalidate.
    ("cache-control", "no-cache"),
];

struct Options {
    root: PathBuf,
    port: u16,
}

fn parse_options() -> Result<Options, String> {
    let mut root = PathBuf::from("www");
    let mut port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT: {p:?} is not a port number (0..=65535)"))?,
        Err(_) => 8080,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--root" => root = args.next().ok_or("--root needs a directory")?.into(),
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port: {value:?} is not a port number (0..=65535)"))?;
            }
            // The policy as a `<meta http-equiv>` can carry it (without `frame-ancestors`,
            // which only a header may set): `./build.sh dist` puts it in dist/index.html
            // for hosts that send no headers, so the policy is written once, here.
            "--print-meta-csp" => {
                println!("{}", meta_csp());
                std::process::exit(0);
            }
            "-h" | "--help" => {
                println!(
                    "usage: scalelab-serve [--root DIR] [--port N] | --print-meta-csp   (PORT env also sets the port; 0 = any free port)"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Options { root, port })
}

/// Answers 404 when the file a request names resolves (through symlinks) outside the root.
/// `ServeDir` already refuses `..` and absolute segments; this closes the symlink hole.
async fn confine_to_root(State(root): State<PathBuf>, request: Request, next: Next) -> Response {
    if escapes_root(&root, request.uri().path()) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    next.run(request).await
}

fn escapes_root(root: &Path, url_path: &str) -> bool {
    let decoded = match percent_decode(url_path) {
        Some(p) => p,
        None => return true,
    };
    let mut candidate = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return true,
            s if s.contains('\\') || s.contains('\0') => return true,
            s => candidate.push(s),
        }
    }
    match candidate.canonicalize() {
        Ok(real) => !real.starts_with(root),
        // Missing files are ServeDir's to answer (404).
        Err(_) => false,
    }
}

/// Decodes `%XX` escapes; `None` for malformed escapes or non-UTF-8 results.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    println!("scalelab-serve: stopping");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = match parse_options() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("scalelab-serve: {message}");
            std::process::exit(2);
        }
    };
    let root = match options.root.canonicalize() {
        Ok(r) if r.is_dir() => r,
        _ => {
            eprintln!("scalelab-serve: root {:?} is not a directory", options.root);
            std::process::exit(2);
        }
    };

    let mut app = Router::new()
        .fallback_service(
            // A `.gz` beside a file (the build writes one for the wasm) is sent to
            // browsers that accept gzip, with `Content-Encoding: gzip`.
            ServeDir::new(&root)
                .append_index_html_on_directories(true)
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn_with_state(
            root.clone(),
            confine_to_root,
        ));
    for (name, value) in RESPONSE_HEADERS {
        app = app.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }

    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("scalelab-serve: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let bound = listener.local_addr().expect("bound socket has an address");
    println!(
        "scalelab-serve: serving {} at http://{bound}/  (Ctrl-C to stop)",
        root.display()
    );
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("scalelab-serve: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%2e%2e/x").as_deref(), Some("/../x"));
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%2"), None);
    }

    #[test]
    fn the_meta_policy_is_the_header_policy_without_frame_ancestors() {
        let meta = meta_csp();
        assert!(!meta.contains("frame-ancestors"));
        assert!(meta.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"));
        assert_eq!(
            meta.split("; ").count() + 1,
            CONTENT_SECURITY_POLICY.split(';').count()
        );
    }

    #[test]
    fn traversal_is_refused() {
        let root = std::env::temp_dir().canonicalize().unwrap();
        assert!(escapes_root(&root, "/../etc/passwd"));
        assert!(escapes_root(&root, "/%2e%2e/etc/passwd"));
        assert!(escapes_root(&root, "/a/%2E%2E/%2E%2E/etc"));
        assert!(escapes_root(&root, "/..%5c..%5cetc"));
        assert!(!escapes_root(&root, "/does-not-exist.html"));
    }
}
