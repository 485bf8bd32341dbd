//! A Lambda Runtime API on 127.0.0.1, written for the tests (the issue allows
//! it: it stands in for the Lambda service, not for AWS storage). It serves
//! queued events on `GET /2018-06-01/runtime/invocation/next` (blocking while
//! the queue is empty, as Lambda does) with request-id and deadline headers,
//! and records every `POST` (response, error, init error).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A POST the runtime made.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Post {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {}",
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

struct Queued {
    id: String,
    /// Time the invocation gets, counted from when it is handed out.
    budget: Duration,
    body: String,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    posts: Vec<Post>,
    served: Vec<String>,
}

pub struct FakeRuntime {
    pub addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl FakeRuntime {
    pub fn start() -> FakeRuntime {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        FakeRuntime { addr, state }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    pub fn push(&self, id: &str, budget: Duration, body: &str) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap().queue.push_back(Queued {
            id: id.into(),
            budget,
            body: body.into(),
        });
        cv.notify_all();
    }

    /// Waits until `n` POSTs arrived (panics after `within`).
    pub fn wait_posts(&self, n: usize, within: Duration) -> Vec<Post> {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + within;
        let mut st = lock.lock().unwrap();
        while st.posts.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {n} posts arrived: {:?}",
                st.posts.len(),
                st.posts
            );
            st = cv.wait_timeout(st, left).unwrap().0;
        }
        st.posts.clone()
    }

    /// Every POST so far (without waiting).
    #[allow(dead_code)] // used by tests/any_image, not by every test binary
    pub fn posts(&self) -> Vec<Post> {
        self.state.0.lock().unwrap().posts.clone()
    }

    /// Request ids handed out so far.
    pub fn served(&self) -> Vec<String> {
        self.state.0.lock().unwrap().served.clone()
    }

    /// The POST for one path.
    pub fn post(&self, path: &str) -> Post {
        let st = self.state.0.lock().unwrap();
        st.posts
            .iter()
            .find(|p| p.path == path)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "no POST {path}; got {:?}",
                    st.posts.iter().map(|p| &p.path).collect::<Vec<_>>()
                )
            })
    }
}

fn serve(stream: TcpStream, state: Arc<(Mutex<State>, Condvar)>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let Some((method, path, headers, body)) = read_request(&mut reader) else {
            return;
        };
        let (lock, cv) = &*state;
        let reply = if method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
            let mut st = lock.lock().unwrap();
            let item = loop {
                if let Some(item) = st.queue.pop_front() {
                    break item;
                }
                st = cv.wait(st).unwrap();
            };
            st.served.push(item.id.clone());
            drop(st);
            let deadline = (SystemTime::now() + item.budget)
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: {}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:fn\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n\
                 Content-Length: {}\r\n\r\n{}",
                item.id,
                item.body.len(),
                item.body
            )
        } else if method == "POST" {
            lock.lock().unwrap().posts.push(Post {
                path,
                headers,
                body,
            });
            cv.notify_all();
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}".to_string()
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some((method, path, headers, body))
}
