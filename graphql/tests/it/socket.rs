//! A real server on a free port: subscriptions over its WebSocket, where the limits of
//! every operation hold as over HTTP and a socket is held to limits of its own; and its
//! connections, which a silent client cannot hold forever nor without bound.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use koers_engine::access::token::AccessScope;
use koers_engine::domain::AccessRole;
use koers_graphql::ApiConfig;
use koers_graphql::server::Server;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server on a free port with an empty database, and an admin token.
async fn serve(config: ApiConfig) -> (SocketAddr, String) {
    let db = koers_testing::database().await;
    let engine = koers_testing::engine(db);
    let token = engine.create_token("test", AccessRole::Admin, AccessScope::All, None).await.expect("token").token;
    let server = Server::bind(engine, "127.0.0.1:0".parse().expect("addr"), config).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    (addr, token)
}

async fn connect(addr: SocketAddr) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    tokio_tungstenite::connect_async(request).await.expect("connect").0
}

/// A socket past `connection_init`.
async fn initialised(addr: SocketAddr, token: &str) -> Ws {
    let mut ws = connect(addr).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.expect("send");
}

/// The next message; the timeout only bounds a broken server.
async fn message(ws: &mut Ws) -> Message {
    tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .expect("a message within 30 s")
        .expect("open")
        .expect("message")
}

async fn next(ws: &mut Ws) -> Value {
    let message = message(ws).await;
    serde_json::from_str(message.to_text().expect("text")).unwrap_or_else(|_| panic!("not JSON: {message:?}"))
}

/// The server handles a socket's messages in order: once it answers a ping, it has taken
/// everything sent before.
async fn settled(ws: &mut Ws) {
    send(ws, json!({ "type": "ping" })).await;
    loop {
        if next(ws).await["type"] == "pong" {
            return;
        }
    }
}

/// The code and message of the refusal of operation `id`: a request refused before it runs
/// is answered as a result with errors and no data.
async fn refused(ws: &mut Ws, id: &str) -> (String, String) {
    let answer = next(ws).await;
    assert_eq!((answer["type"].as_str(), answer["id"].as_str()), (Some("next"), Some(id)), "{answer}");
    assert_eq!(answer["payload"]["data"], Value::Null, "{answer}");
    let error = &answer["payload"]["errors"][0];
    (
        error["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn subscribe(id: &str, query: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query } })
}

#[tokio::test]
async fn a_nul_character_is_refused_over_the_websocket_as_over_http() {
    let (addr, token) = serve(ApiConfig::default()).await;
    let mut ws = initialised(addr, &token).await;
    let start =
        "mutation { startCycle(input: { workflow: \"pdca\", title: \"nul\\u0000inside\", teamId: \"1\" }) { id } }";
    send(&mut ws, subscribe("1", start)).await;
    let (code, message) = refused(&mut ws, "1").await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(message, "a text holds a NUL character (\\u0000), which no text may contain");
}

#[tokio::test]
async fn fragments_that_fan_out_are_refused_over_the_websocket() {
    let (addr, token) = serve(ApiConfig::default()).await;
    let mut ws = initialised(addr, &token).await;
    let mut document = String::from("subscription { cycleEvents { ...F0 } }\n");
    for n in 0..30 {
        document.push_str(&format!("fragment F{n} on CycleEvent {{ kind ...F{m} ...F{m} }}\n", m = n + 1));
    }
    document.push_str("fragment F30 on CycleEvent { kind }\n");
    send(&mut ws, subscribe("1", &document)).await;
    let (code, message) = refused(&mut ws, "1").await;
    assert_eq!(code, "VALIDATION");
    assert!(message.starts_with("the query's fragments spread to more than 10000 fields"), "{message}");
}

#[tokio::test]
async fn a_socket_without_connection_init_is_closed() {
    let config = ApiConfig { ws_init_timeout: Duration::from_millis(200), ..ApiConfig::default() };
    let (addr, _) = serve(config).await;
    let mut ws = connect(addr).await;
    match message(&mut ws).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4408);
            assert!(frame.reason.contains("connection_init"), "{}", frame.reason);
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_runs_a_bounded_number_of_operations() {
    let config = ApiConfig { max_subscriptions_per_socket: 2, ..ApiConfig::default() };
    let (addr, token) = serve(config).await;
    let mut ws = initialised(addr, &token).await;
    for id in ["1", "2"] {
        send(&mut ws, subscribe(id, "subscription { cycleEvents { kind } }")).await;
    }
    send(&mut ws, subscribe("3", "subscription { cycleEvents { kind } }")).await;
    let answer = next(&mut ws).await;
    assert_eq!((answer["type"].as_str(), answer["id"].as_str()), (Some("error"), Some("3")), "{answer}");
    assert_eq!(
        answer["payload"][0]["message"],
        "this socket runs 2 operations, the most one socket may run at once: complete one first"
    );
    // Completing one makes room.
    send(&mut ws, json!({ "id": "1", "type": "complete" })).await;
    send(&mut ws, subscribe("4", "subscription { cycleEvents { kind } }")).await;
    settled(&mut ws).await;
    send(&mut ws, subscribe("5", "subscription { cycleEvents { kind } }")).await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["id"], "5", "4 was taken, 5 is one too many: {answer}");
}

#[tokio::test]
async fn a_token_holds_a_bounded_number_of_sockets() {
    let config = ApiConfig { max_sockets_per_token: 2, ..ApiConfig::default() };
    let (addr, token) = serve(config).await;
    let first = initialised(addr, &token).await;
    let _second = initialised(addr, &token).await;
    let mut third = connect(addr).await;
    send(&mut third, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    match message(&mut third).await {
        Message::Close(Some(frame)) => assert!(frame.reason.contains("sockets open"), "{}", frame.reason),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // A socket closed gives its place back.
    drop(first);
    let mut retried = None;
    for _ in 0..100 {
        let mut ws = connect(addr).await;
        send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await;
        if let Message::Text(text) = message(&mut ws).await {
            retried = Some(text.to_string());
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(retried.is_some_and(|text| text.contains("connection_ack")));
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_answered_and_the_socket_stays() {
    let (addr, token) = serve(ApiConfig::default()).await;
    let mut ws = initialised(addr, &token).await;
    let padding = " ".repeat(2 * 1024 * 1024);
    send(&mut ws, subscribe("big", &format!("{{ __typename {padding} }}"))).await;
    let answer = next(&mut ws).await;
    assert_eq!((answer["type"].as_str(), answer["id"].as_str()), (Some("error"), Some("big")), "{answer}");
    let message = answer["payload"][0]["message"].as_str().expect("message");
    assert!(message.starts_with("a message may hold at most 1048576 bytes"), "{message}");
    send(&mut ws, subscribe("small", "{ __typename }")).await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
}

/// Reads until the server closes the connection; the timeout only bounds a server that never does.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection within 30 s")
        .expect("read");
    answer
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let config = ApiConfig { header_read_timeout: Duration::from_millis(200), ..ApiConfig::default() };
    let (addr, _) = serve(config).await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut slow, b"GET /healthz HTTP/1.1\r\nHost: koers\r\n").await.expect("write");
    let answer = closed_by_server(&mut slow).await;
    // hyper answers 408 Request Timeout, or nothing, as it closes.
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A silent connection is closed as well; a client that sends in time is answered.
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    closed_by_server(&mut silent).await;
    let mut prompt = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(
        &mut prompt,
        b"GET /healthz HTTP/1.1\r\nHost: koers\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("write");
    let answer = closed_by_server(&mut prompt).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let config = ApiConfig { max_connections: 2, header_read_timeout: Duration::from_secs(60), ..ApiConfig::default() };
    let (addr, _) = serve(config).await;
    let held: Vec<tokio::net::TcpStream> =
        futures::future::join_all((0..2).map(|_| tokio::net::TcpStream::connect(addr)))
            .await
            .into_iter()
            .map(|c| c.expect("connect"))
            .collect();
    let mut third = tokio::net::TcpStream::connect(addr).await.expect("the kernel queues the third");
    tokio::io::AsyncWriteExt::write_all(
        &mut third,
        b"GET /healthz HTTP/1.1\r\nHost: koers\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    let early =
        tokio::time::timeout(Duration::from_millis(500), tokio::io::AsyncReadExt::read_to_end(&mut third, &mut answer))
            .await;
    assert!(early.is_err(), "answered while two connections held every slot: {}", String::from_utf8_lossy(&answer));
    drop(held);
    let answer = closed_by_server(&mut third).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

/// Sends one HTTP/1.1 request on a new connection and answers the whole response.
async fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: koers\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await.expect("write");
    String::from_utf8(closed_by_server(&mut stream).await).expect("utf-8")
}

/// `k` fragments that each spread the next twice: 2^k fields in a few hundred bytes.
fn fanned_out(k: usize) -> String {
    let mut document = String::from("{ kindcentra { ...F0 } }\n");
    for n in 0..k {
        document.push_str(&format!("fragment F{n} on Kindcentrum {{ name ...F{next} ...F{next} }}\n", next = n + 1));
    }
    document.push_str(&format!("fragment F{k} on Kindcentrum {{ name }}\n"));
    document
}

/// Many documents of 30 fragment levels at once on a server with two runtime threads (the
/// machine the server runs on): each is refused, and the health check answers meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_answers_while_fanned_out_documents_arrive() {
    let (addr, token) = serve(ApiConfig::default()).await;
    let body = json!({ "query": fanned_out(30) }).to_string();
    let attacks: Vec<_> = (0..16)
        .map(|_| {
            let (token, body) = (token.clone(), body.clone());
            tokio::spawn(async move { http(addr, "POST", "/graphql", &token, &body).await })
        })
        .collect();
    let health = tokio::time::timeout(Duration::from_secs(30), http(addr, "GET", "/healthz", "", ""))
        .await
        .expect("/healthz answers within 30 s");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    for attack in attacks {
        let answer = tokio::time::timeout(Duration::from_secs(30), attack).await.expect("answered").expect("task");
        assert!(answer.contains("\"code\":\"VALIDATION\""), "{answer}");
    }
}
