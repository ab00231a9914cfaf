//! An S3-compatible server and a fault-injecting proxy on 127.0.0.1 for the
//! S3 ingest tests.
//!
//! The server is `s3s-fs`: it serves a temporary folder (one subfolder per
//! bucket) and checks SigV4 signatures against the test credentials. The
//! proxy sits between trailhound and the server, records every request line
//! and, on a schedule the test chooses, returns 503 SlowDown or 500, resets
//! the connection, or cuts the response body short.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const ACCESS_KEY: &str = "AKIDTRAILHOUNDTEST01";
pub const SECRET_KEY: &str = "trailhound-test-secret-key-not-real";
pub const BUCKET: &str = "trail-bucket";

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    SlowDown,
    InternalError,
    Reset,
    CutBody,
}

/// Chooses the fault from the method, the request target (path and query)
/// and how many times this exact request was seen (1 for the first).
pub type Schedule = dyn Fn(&str, &str, usize) -> Fault + Send + Sync;

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub fault: Fault,
}

impl Request {
    /// Returns the decoded value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| percent_decode(value))
        })
    }

    /// Returns the object key of a GetObject request (path-style `/bucket/key`).
    pub fn object_key(&self) -> Option<String> {
        let path = self.target.split('?').next()?;
        let rest = path.strip_prefix(&format!("/{BUCKET}/"))?;
        (self.method == "GET" && !rest.is_empty()).then(|| percent_decode(rest))
    }

    pub fn is_list(&self) -> bool {
        self.query("list-type").as_deref() == Some("2")
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if bytes[index] == b'%'
            && let Some(byte) = escaped
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(if bytes[index] == b'+' {
                b' '
            } else {
                bytes[index]
            });
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct ProxyState {
    upstream: SocketAddr,
    schedule: Mutex<Arc<Schedule>>,
    seen: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Request>>,
}

/// The server, the proxy in front of it and the runtime that runs both.
pub struct S3Lab {
    root: TempDir,
    pub endpoint: String,
    pub server_endpoint: String,
    state: Arc<ProxyState>,
    config_dir: TempDir,
    runtime: tokio::runtime::Runtime,
}

impl S3Lab {
    /// Starts the server and the proxy, with an empty bucket.
    pub fn start() -> S3Lab {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(BUCKET)).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();

        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let server = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let server_addr = server.local_addr().unwrap();
        runtime.spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = server.accept().await else {
                    continue;
                };
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });

        let state = Arc::new(ProxyState {
            upstream: server_addr,
            schedule: Mutex::new(Arc::new(|_: &str, _: &str, _: usize| Fault::Pass)),
            seen: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        });
        let proxy = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let proxy_addr = proxy.local_addr().unwrap();
        let proxy_state = Arc::clone(&state);
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = proxy.accept().await else {
                    continue;
                };
                tokio::spawn(handle(socket, Arc::clone(&proxy_state)));
            }
        });

        S3Lab {
            root,
            endpoint: format!("http://{proxy_addr}"),
            server_endpoint: format!("http://{server_addr}"),
            state,
            config_dir: tempfile::tempdir().unwrap(),
            runtime,
        }
    }

    /// Returns the folder that the server serves as the test bucket.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// Copies a folder tree into the bucket under `prefix`.
    pub fn upload_dir(&self, source: &Path, prefix: &str) {
        let target = self.bucket_dir().join(prefix);
        copy_tree(source, &target);
    }

    /// Stores one object through PutObject, with an optional Content-Encoding.
    pub fn put(&self, key: &str, body: Vec<u8>, content_encoding: Option<&str>) {
        let endpoint = self.server_endpoint.clone();
        self.runtime.block_on(async move {
            let credentials =
                aws_sdk_s3::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
            let config = aws_sdk_s3::config::Builder::new()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
                .endpoint_url(endpoint)
                .force_path_style(true)
                .credentials_provider(credentials)
                .build();
            let client = aws_sdk_s3::Client::from_conf(config);
            client
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .set_content_encoding(content_encoding.map(str::to_string))
                .body(body.into())
                .send()
                .await
                .unwrap();
        });
    }

    /// Replaces the fault schedule and clears the requests recorded so far.
    pub fn set_schedule(
        &self,
        schedule: impl Fn(&str, &str, usize) -> Fault + Send + Sync + 'static,
    ) {
        *self.state.schedule.lock().unwrap() = Arc::new(schedule);
        self.state.seen.lock().unwrap().clear();
    }

    /// Returns and clears the requests recorded so far.
    pub fn take_requests(&self) -> Vec<Request> {
        std::mem::take(&mut *self.state.log.lock().unwrap())
    }

    /// Builds a trailhound command isolated from any AWS configuration of the
    /// machine: test credentials, empty config files, no instance metadata,
    /// no proxy, and the endpoint of the proxy.
    pub fn command(&self, store: &Path) -> Command {
        let mut command = Command::from_std(self.std_command(store));
        command.timeout(std::time::Duration::from_secs(900));
        command
    }

    /// The same command as [`S3Lab::command`], for runs the test must kill.
    pub fn std_command(&self, store: &Path) -> std::process::Command {
        let config = self.config_dir.path().join("config");
        let credentials = self.config_dir.path().join("credentials");
        std::fs::write(&config, "").unwrap();
        std::fs::write(&credentials, "").unwrap();
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("trailhound"));
        for name in [
            "TRAILHOUND_STORE",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_DEFAULT_REGION",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            command.env_remove(name);
        }
        command
            .env("NO_COLOR", "1")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-east-1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .arg("--store")
            .arg(store)
            .arg("ingest")
            .arg("--endpoint-url")
            .arg(&self.endpoint)
            .arg("--path-style");
        command
    }
}

fn copy_tree(source: &Path, target: &Path) {
    std::fs::create_dir_all(target).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let destination = target.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&path, &destination);
        } else {
            std::fs::copy(&path, &destination).unwrap();
        }
    }
}

/// Serves one client connection: one request, forwarded to the server or
/// with the scheduled fault, then the connection is closed.
async fn handle(mut client: TcpStream, state: Arc<ProxyState>) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&head, b"\r\n\r\n") {
            break end + 4;
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&chunk[..read]),
        }
    };
    let text = String::from_utf8_lossy(&head[..head_end]).into_owned();
    let mut request_line = text.lines().next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("").to_string();

    let attempt = {
        let mut seen = state.seen.lock().unwrap();
        let count = seen.entry(format!("{method} {target}")).or_insert(0);
        *count += 1;
        *count
    };
    let schedule = Arc::clone(&state.schedule.lock().unwrap());
    let fault = schedule(&method, &target, attempt);
    state.log.lock().unwrap().push(Request {
        method,
        target,
        fault,
    });

    match fault {
        Fault::SlowDown => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            write_error(&mut client, "503 Slow Down", body).await;
        }
        Fault::InternalError => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
            write_error(&mut client, "500 Internal Server Error", body).await;
        }
        Fault::Reset => {
            let _ = client.set_zero_linger();
            drop(client);
        }
        Fault::Pass | Fault::CutBody => {
            let Some(response) = forward(&text, &head[head_end..], state.upstream).await else {
                return;
            };
            let send = if fault == Fault::CutBody {
                let body_start = find(&response, b"\r\n\r\n").map_or(response.len(), |end| end + 4);
                let body_len = response.len() - body_start;
                &response[..body_start + body_len / 2]
            } else {
                &response[..]
            };
            let _ = client.write_all(send).await;
            let _ = client.shutdown().await;
        }
    }
}

/// Sends the request upstream with `connection: close` and returns the
/// whole response.
async fn forward(head: &str, body: &[u8], upstream: SocketAddr) -> Option<Vec<u8>> {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("connection: close");
    let mut request = lines.join("\r\n").into_bytes();
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(body);

    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(&request).await.ok()?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await.ok()?;
    Some(response)
}

async fn write_error(client: &mut TcpStream, status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(response.as_bytes()).await;
    let _ = client.shutdown().await;
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
