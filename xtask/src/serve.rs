//! A static file server for `dist/` on 127.0.0.1: GET and HEAD, correct MIME types (the
//! browser compiles wasm in streaming mode only when it is served as `application/wasm`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path};

/// Serves `dist` on `port` (0: any free port), calling `ready` with the URL once listening.
pub fn serve(dist: &Path, port: u16, ready: impl FnOnce(&str)) -> Result<(), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (try --port N)"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    ready(&format!("http://{addr}/"));
    accept(listener, dist);
    Ok(())
}

/// Answers connections until the process ends, one thread each.
pub fn accept(listener: TcpListener, dist: &Path) {
    for stream in listener.incoming().flatten() {
        let dist = dist.to_path_buf();
        std::thread::spawn(move || {
            let _ = respond(stream, &dist);
        });
    }
}

fn respond(mut stream: TcpStream, dist: &Path) -> std::io::Result<()> {
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut request_line)?;
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return reply(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET or HEAD only\n",
            true,
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    let file = Path::new(relative);
    // Only plain names below dist/: no "..", no absolute paths.
    if !file.components().all(|c| matches!(c, Component::Normal(_))) {
        return reply(
            &mut stream,
            "403 Forbidden",
            "text/plain",
            b"forbidden\n",
            method == "GET",
        );
    }
    match std::fs::read(dist.join(file)) {
        Ok(body) => reply(&mut stream, "200 OK", mime(file), &body, method == "GET"),
        Err(_) => reply(
            &mut stream,
            "404 Not Found",
            "text/plain",
            format!("no file {path}\n").as_bytes(),
            method == "GET",
        ),
    }
}

fn reply(
    stream: &mut TcpStream,
    status: &str,
    mime: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

fn mime(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}
