//! Subscriptions over WebSocket (graphql-transport-ws and the older graphql-ws), held to
//! limits of their own beside those every operation has (the schema's extension checks NUL
//! characters, fragments, depth and complexity on both transports alike):
//!
//! - a socket that has not sent `connection_init` within [`ApiConfig::ws_init_timeout`] is
//!   closed with 4408, as graphql-transport-ws prescribes;
//! - a message larger than [`ApiConfig::max_body_bytes`] is answered with an error for its
//!   operation, as an HTTP body of that size is with 413; one more than eight times as
//!   large closes the socket with 1009 (message too big) without being read;
//! - a socket runs at most [`ApiConfig::max_subscriptions_per_socket`] operations at once,
//!   and a token holds at most [`ApiConfig::max_sockets_per_token`] sockets at once: what
//!   is over is refused with a message that says so.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket};
use futures::channel::mpsc;
use futures::{SinkExt as _, StreamExt as _};
use koers_engine::Engine;
use serde::Deserialize;

use crate::{ApiConfig, KoersSchema, loader};

/// How many sockets each token holds open now.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenSockets(Arc<Mutex<HashMap<i64, usize>>>);

/// One socket of a token, counted until dropped.
struct Held {
    open: OpenSockets,
    token: i64,
}

impl OpenSockets {
    /// Counts a socket of `token`, unless it holds `max` already.
    fn hold(&self, token: i64, max: usize) -> Option<Held> {
        let mut open = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(token).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Held { open: self.clone(), token })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.token) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

/// The part of a protocol message the limits look at.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

/// Serves one upgraded socket until either side ends it. `from_header` is the
/// `Authorization` header of the upgrade, used when `connection_init` carries no token.
pub(crate) async fn serve(
    socket: Socket,
    schema: KoersSchema,
    engine: Engine,
    config: ApiConfig,
    protocol: WebSocketProtocols,
    open: OpenSockets,
    from_header: Option<String>,
) {
    let (mut sink, stream) = socket.split();
    let (refusals, mut refused) = mpsc::unbounded::<Message>();
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let initialised = Arc::new(AtomicBool::new(false));
    let held: Arc<Mutex<Option<Held>>> = Arc::default();

    let input = {
        let (refusals, running, config) = (refusals.clone(), running.clone(), config.clone());
        stream
            .map(move |message| match message {
                Ok(Message::Text(text)) => admit(text.as_bytes(), &config, protocol, &running, &refusals),
                Ok(Message::Binary(bytes)) => admit(&bytes, &config, protocol, &running, &refusals),
                Ok(_) => Some(None),
                Err(err) => {
                    tracing::info!(error = %err, "websocket closed on a read error");
                    let reason = format!(
                        "a message may hold at most {} bytes; this socket is closed: {err}",
                        config.max_body_bytes
                    );
                    let _ = refusals.unbounded_send(close(1009, &reason));
                    None
                }
            })
            .take_while(|message| std::future::ready(message.is_some()))
            .filter_map(|message| std::future::ready(message.flatten()))
    };

    let on_init = {
        let (initialised, held, max_sockets) = (initialised.clone(), held.clone(), config.max_sockets_per_token);
        move |payload: serde_json::Value| async move {
            let from_payload = ["Authorization", "authorization"]
                .iter()
                .find_map(|key| payload.get(*key).and_then(|v| v.as_str()).map(str::to_owned));
            let authorization = from_payload.or(from_header);
            let (caller, engine) = crate::server::caller(&engine, authorization.as_deref()).await.map_err(|_| {
                async_graphql::Error::new("UNAUTHENTICATED: send a valid `Authorization: Bearer <token>`")
            })?;
            let Some(hold) = open.hold(caller.token_id, max_sockets) else {
                return Err(async_graphql::Error::new(format!(
                    "this token has {max_sockets} sockets open, the most one token may hold: close one first"
                )));
            };
            *held.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(hold);
            initialised.store(true, Ordering::SeqCst);
            let mut data = Data::default();
            data.insert(loader::new(engine.clone()));
            data.insert(engine);
            data.insert(caller);
            Ok(data)
        }
    };

    let mut output = WebSocket::new(schema, input, protocol).on_connection_init(on_init);
    let deadline = tokio::time::sleep(config.ws_init_timeout);
    tokio::pin!(deadline);
    loop {
        let message = tokio::select! {
            message = output.next() => match message {
                Some(WsMessage::Text(text)) => {
                    finished(&text, &running);
                    Message::Text(text.into())
                }
                Some(WsMessage::Close(code, reason)) => close(code, &reason),
                None => break,
            },
            Some(refusal) = refused.next() => refusal,
            () = &mut deadline, if !initialised.load(Ordering::SeqCst) => {
                close(4408, "Connection initialisation timeout: send `connection_init` first")
            }
        };
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
    drop(held);
}

/// A message let through to the protocol (`Some(Some(_))`), answered here and dropped
/// (`Some(None)`), or the end of the socket (`None`).
fn admit(
    bytes: &[u8],
    config: &ApiConfig,
    protocol: WebSocketProtocols,
    running: &Mutex<HashSet<String>>,
    refusals: &mpsc::UnboundedSender<Message>,
) -> Option<Option<Vec<u8>>> {
    let head: Option<Head> = serde_json::from_slice(bytes).ok();
    let refuse = |id: Option<String>, message: String| match id {
        Some(id) => {
            let _ = refusals.unbounded_send(error(protocol, &id, &message));
            Some(None)
        }
        None => {
            let _ = refusals.unbounded_send(close(1009, &message));
            None
        }
    };
    if bytes.len() > config.max_body_bytes {
        let message = format!(
            "a message may hold at most {} bytes, this one holds {}; send a smaller operation",
            config.max_body_bytes,
            bytes.len()
        );
        return refuse(head.and_then(|h| h.id), message);
    }
    let Some(head) = head else { return Some(Some(bytes.to_vec())) };
    let mut running = running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match (head.kind.as_str(), head.id) {
        ("subscribe" | "start", Some(id)) => {
            if running.len() >= config.max_subscriptions_per_socket && !running.contains(&id) {
                let message = format!(
                    "this socket runs {} operations, the most one socket may run at once: complete one first",
                    config.max_subscriptions_per_socket
                );
                drop(running);
                return refuse(Some(id), message);
            }
            running.insert(id);
        }
        ("complete" | "stop", Some(id)) => {
            running.remove(&id);
        }
        _ => {}
    }
    Some(Some(bytes.to_vec()))
}

/// Forgets an operation the server ended (completed, or failed with an error).
fn finished(text: &str, running: &Mutex<HashSet<String>>) {
    if let Ok(Head { kind, id: Some(id) }) = serde_json::from_str(text)
        && matches!(kind.as_str(), "complete" | "error")
    {
        running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }
}

/// An error for operation `id`, in the shape of `protocol`, with `extensions.code`
/// VALIDATION like every refusal of a request.
fn error(protocol: WebSocketProtocols, id: &str, message: &str) -> Message {
    let error = serde_json::json!({ "message": message, "extensions": { "code": "VALIDATION" } });
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
        WebSocketProtocols::SubscriptionsTransportWS => error,
    };
    Message::Text(serde_json::json!({ "type": "error", "id": id, "payload": payload }).to_string().into())
}

fn close(code: u16, reason: &str) -> Message {
    // A close frame's reason holds at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame { code, reason: reason[..end].into() }))
}
