//! The server serves only its root: `..` in any spelling (plain, percent-encoded,
//! double-encoded, backslashed) and symlinks pointing out of the root never reach a file
//! outside it. Requests go over a raw TCP socket so the paths arrive exactly as written
//! (an HTTP client library would normalise `..` away before sending).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SECRET: &str = "TOP-SECRET-OUTSIDE-THE-ROOT";

/// A scratch directory: `outside/secret.txt`, and `root/` holding a page plus symlinks
/// that point out of the root (to the file and to its directory).
struct Scratch {
    base: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let base =
            std::env::temp_dir().join(format!("scalelab-serve-{}-{nanos}", std::process::id()));
        let root = base.join("root");
        let outside = base.join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html><title>ok</title>").unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linkdir")).unwrap();
        Scratch { base }
    }

    fn root(&self) -> PathBuf {
        self.base.join("root")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The server on a free port; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab-serve"))
            .args(["--root", root.to_str().unwrap(), "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start scalelab-serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let start = line.find("http://").expect("the server prints its URL") + "http://".len();
        let addr = line[start..].split('/').next().unwrap().to_string();
        Server { child, addr }
    }

    /// Sends `GET <raw_path>` exactly as given; returns (status, headers+body text).
    fn get(&self, raw_path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {raw_path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serves_the_root_with_its_headers() {
    let scratch = Scratch::new();
    let server = Server::start(&scratch.root());
    let (status, text) = server.get("/");
    assert_eq!(status, 200, "{text}");
    let lower = text.to_ascii_lowercase();
    for header in [
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "cross-origin-opener-policy: same-origin",
        "cross-origin-embedder-policy: require-corp",
        "content-security-policy: default-src 'self'",
    ] {
        assert!(lower.contains(header), "missing {header:?} in\n{text}");
    }
    assert!(text.contains("<title>ok</title>"));
}

#[test]
fn nothing_outside_the_root_is_served() {
    let scratch = Scratch::new();
    let server = Server::start(&scratch.root());
    let attempts = [
        "/../secret.txt",
        "/../outside/secret.txt",
        "/./../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Foutside%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%2e%2e%5coutside%5csecret.txt",
        "/linkdir/../../secret.txt",
        "/link.txt",
        "/linkdir/secret.txt",
        "/linkdir/",
        "/linkdir",
        "//../secret.txt",
        "/index.html/../../secret.txt",
        "/%00/../secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
    ];
    for path in attempts {
        let (status, text) = server.get(path);
        assert!(
            !text.contains(SECRET),
            "{path} leaked the file outside the root"
        );
        assert_ne!(status, 200, "{path} answered 200:\n{text}");
        assert_ne!(status, 0, "{path} got no HTTP answer");
    }
    // The server is still serving after all of that.
    assert_eq!(server.get("/index.html").0, 200);
}
