//! The control socket: a Unix stream socket (mode 0600) speaking newline-delimited JSON, one
//! response line per request line (docs/control-protocol.md). Connections are non-blocking and
//! served by the event loop between IKE datagrams; a client sends whole lines and may send
//! several on one connection.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// Longest request line accepted; a client that sends more is disconnected.
const MAX_LINE: usize = 64 * 1024;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// `{"cmd":"status"}`.
    Status,
    /// `{"cmd":"sa_list"}`.
    SaList,
    /// `{"cmd":"up","name":...}`.
    Up(String),
    /// `{"cmd":"down","name":...}`.
    Down(String),
    /// `{"cmd":"reload"}`: read the configuration file again and apply it.
    Reload,
    /// `{"cmd":"export_keys"}`: every SA's keys, when `allow_key_export` is on.
    ExportKeys,
}

impl Request {
    /// Parses one request line; `Err` is the message for `{"ok":false,"error":...}`.
    pub(crate) fn parse(line: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(line).map_err(|e| format!("bad JSON: {e}"))?;
        let cmd = v
            .get("cmd")
            .and_then(Value::as_str)
            .ok_or("missing \"cmd\" string")?;
        let name = || {
            v.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("\"{cmd}\" needs a \"name\" string"))
        };
        match cmd {
            "status" => Ok(Self::Status),
            "sa_list" => Ok(Self::SaList),
            "up" => Ok(Self::Up(name()?)),
            "down" => Ok(Self::Down(name()?)),
            "reload" => Ok(Self::Reload),
            "export_keys" => Ok(Self::ExportKeys),
            other => Err(format!("unknown command \"{other}\"")),
        }
    }
}

/// An `{"ok":false,"error":...}` response.
pub(crate) fn error(message: &str) -> Value {
    json!({ "ok": false, "error": message })
}

struct Client {
    stream: UnixStream,
    buf: Vec<u8>,
}

/// The listening socket and its clients, named by poller tokens from `first_token` on.
pub(crate) struct ControlServer {
    path: PathBuf,
    listener: UnixListener,
    clients: HashMap<u64, Client>,
    next_token: u64,
}

impl ControlServer {
    /// Binds `path` (replacing a stale socket file there) with mode 0600.
    pub(crate) fn bind(path: &Path, first_token: u64) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::symlink_metadata(path).is_ok() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: another daemon is listening there", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            path: path.to_path_buf(),
            listener,
            clients: HashMap::new(),
            next_token: first_token,
        })
    }

    /// The listener's fd, for the poller.
    pub(crate) fn listener(&self) -> &UnixListener {
        &self.listener
    }

    /// Accepts waiting connections; returns them with their new tokens to register.
    pub(crate) fn accept(&mut self) -> Vec<(u64, std::os::fd::RawFd)> {
        let mut out = Vec::new();
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let token = self.next_token;
                    self.next_token += 1;
                    out.push((token, stream.as_raw_fd()));
                    self.clients.insert(
                        token,
                        Client {
                            stream,
                            buf: Vec::new(),
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        out
    }

    /// Whether `token` names a client.
    pub(crate) fn is_client(&self, token: u64) -> bool {
        self.clients.contains_key(&token)
    }

    /// Reads what client `token` sent; returns its complete lines, or `None` when it is gone
    /// (closed, failed or sent an overlong line) and must be dropped with [`Self::drop_client`].
    pub(crate) fn read(&mut self, token: u64) -> Option<Vec<Vec<u8>>> {
        let c = self.clients.get_mut(&token)?;
        let mut chunk = [0u8; 4096];
        let mut eof = false;
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => c.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        let mut lines = Vec::new();
        while let Some(i) = c.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = c.buf.drain(..=i).collect();
            lines.push(line[..i].to_vec());
        }
        if c.buf.len() > MAX_LINE || (eof && lines.is_empty()) {
            return None;
        }
        Some(lines)
    }

    /// Writes one response line to `token` (blocking briefly: responses are small).
    pub(crate) fn respond(&mut self, token: u64, response: &Value) {
        if let Some(c) = self.clients.get_mut(&token) {
            let mut line = response.to_string();
            line.push('\n');
            let _ = c.stream.set_nonblocking(false);
            let _ = c
                .stream
                .set_write_timeout(Some(std::time::Duration::from_secs(1)));
            let _ = c.stream.write_all(line.as_bytes());
            let _ = c.stream.set_nonblocking(true);
        }
    }

    /// Forgets client `token` (closing its stream, which also removes it from the poller).
    pub(crate) fn drop_client(&mut self, token: u64) {
        self.clients.remove(&token);
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        assert_eq!(Request::parse(br#"{"cmd":"status"}"#), Ok(Request::Status));
        assert_eq!(Request::parse(br#"{"cmd":"sa_list"}"#), Ok(Request::SaList));
        assert_eq!(
            Request::parse(br#"{"cmd":"up","name":"a"}"#),
            Ok(Request::Up("a".into()))
        );
        assert_eq!(
            Request::parse(br#"{"cmd":"down","name":"b"}"#),
            Ok(Request::Down("b".into()))
        );
        assert_eq!(Request::parse(br#"{"cmd":"reload"}"#), Ok(Request::Reload));
        assert_eq!(
            Request::parse(br#"{"cmd":"export_keys"}"#),
            Ok(Request::ExportKeys)
        );
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(
            Request::parse(b"not json")
                .unwrap_err()
                .contains("bad JSON")
        );
        assert!(
            Request::parse(br#"{"cmd":"up"}"#)
                .unwrap_err()
                .contains("name")
        );
        assert!(
            Request::parse(br#"{"cmd":"x"}"#)
                .unwrap_err()
                .contains("unknown")
        );
        assert!(
            Request::parse(br#"{"name":"x"}"#)
                .unwrap_err()
                .contains("cmd")
        );
    }
}
