//! Serves a folder over the S3 API on 127.0.0.1 with s3s-fs, for the S3
//! ingest benchmark and for trying `trailhound ingest s3://…` without AWS.
//!
//! Usage: `cargo run --example s3_serve -- ROOT [PORT]`. Every subfolder of
//! ROOT is a bucket. Requests must be signed with the access key and secret
//! in `S3_SERVE_ACCESS_KEY` and `S3_SERVE_SECRET_KEY` (defaults below, for
//! local use only). The first line on standard output is the endpoint URL.

use std::io::Write;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

const DEFAULT_ACCESS_KEY: &str = "AKIDLOCALSERVE000001";
const DEFAULT_SECRET_KEY: &str = "local-serve-secret-not-for-aws";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().ok_or("usage: s3_serve ROOT [PORT]")?;
    let port: u16 = args
        .next()
        .map(|port| port.parse())
        .transpose()?
        .unwrap_or(0);
    let access_key =
        std::env::var("S3_SERVE_ACCESS_KEY").unwrap_or_else(|_| DEFAULT_ACCESS_KEY.to_string());
    let secret_key =
        std::env::var("S3_SERVE_SECRET_KEY").unwrap_or_else(|_| DEFAULT_SECRET_KEY.to_string());

    let fs =
        s3s_fs::FileSystem::new(&root).map_err(|err| format!("cannot serve {root}: {err:?}"))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
    let service = builder.build();

    // Loopback only: this server has no TLS and serves whatever ROOT holds.
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;

    let http = ConnBuilder::new(TokioExecutor::new());
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                eprintln!("s3_serve: accept failed: {err}");
                continue;
            }
        };
        let connection = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}
