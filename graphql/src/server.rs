//! The HTTP server: GraphiQL at `/`, GraphQL at `POST /graphql`, subscriptions over
//! WebSocket at `/graphql/ws`, health at `/healthz`. GraphQL needs a token
//! (`Authorization: Bearer ...`); the health check and the GraphiQL page do not.
//!
//! `POST /graphql` takes one request or a batch (a JSON array) of at most
//! [`ApiConfig::max_batch`] operations, in a body of at most [`ApiConfig::max_body_bytes`],
//! and answers within [`ApiConfig::request_timeout`], reading the body included.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::str::FromStr as _;
use std::time::Duration;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource, MultipartOptions, WebSocketProtocols, receive_batch_body,
};
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLResponse;
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt as _;
use koers_engine::Engine;
use koers_engine::access::token::{AuthError, Caller};
use tokio::net::TcpListener;

use crate::error::request_error;
use crate::{ApiConfig, KoersSchema, loader, schema_with};

#[derive(Clone)]
struct AppState {
    schema: KoersSchema,
    engine: Engine,
    config: ApiConfig,
    sockets: crate::socket::OpenSockets,
}

/// A bound, not yet running, server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    max_connections: usize,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and builds the routes.
    pub async fn bind(engine: Engine, addr: SocketAddr, config: ApiConfig) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let (header_read_timeout, max_connections) = (config.header_read_timeout, config.max_connections.max(1));
        Ok(Server { listener, router: router(engine, config), header_read_timeout, max_connections })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    ///
    /// `axum::serve` neither times out a client that sends its headers slowly (or never)
    /// nor bounds the connections it holds, so a few thousand silent connections would take
    /// every file descriptor. This loop is `axum::serve`'s with both: each connection gets
    /// [`ApiConfig::header_read_timeout`] for every request's headers (idle keep-alive
    /// included), and at most [`ApiConfig::max_connections`] are served at once; the rest
    /// wait in the listener's queue.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
        use hyper_util::server::conn::auto;
        use hyper_util::service::TowerToHyperService;

        let Server { listener, router, header_read_timeout, max_connections } = self;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
        builder.http2().timer(TokioTimer::new()).keep_alive_interval(header_read_timeout).enable_connect_protocol();
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
                () = &mut shutdown => break,
            };
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors, or a connection reset before it was
                        // taken: the listener itself is fine. Give the others a moment to
                        // close rather than spinning on the same error.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let service = TowerToHyperService::new(tower::ServiceExt::map_request(
                router.clone(),
                |req: Request<hyper::body::Incoming>| req.map(axum::body::Body::new),
            ));
            let (builder, watcher) = (builder.clone(), graceful.watcher());
            tokio::spawn(async move {
                // hyper reads the first bytes to tell HTTP/1 from HTTP/2 without a timer:
                // a client that sends nothing is timed out here.
                let first_byte = tokio::time::timeout(header_read_timeout, stream.peek(&mut [0; 1])).await;
                if matches!(first_byte, Ok(Ok(1..))) {
                    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    if let Err(error) = watcher.watch(connection.into_owned()).await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
                drop(slot);
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// The routes of the API.
pub fn router(engine: Engine, config: ApiConfig) -> Router {
    let state = AppState { schema: schema_with(engine.clone(), &config), engine, config, sockets: Default::default() };
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .with_state(state)
}

async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").finish())
}

/// The caller of a request with `Authorization: Bearer <token>` and the engine scoped to
/// its access, or the 401 answer.
pub(crate) async fn caller(engine: &Engine, authorization: Option<&str>) -> Result<(Caller, Engine), Response> {
    let refused = |reason: String| {
        let body =
            serde_json::json!({ "errors": [{ "message": reason, "extensions": { "code": "UNAUTHENTICATED" } }] });
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Json(body)).into_response()
    };
    let Some(authorization) = authorization else { return Err(refused(AuthError::Missing.to_string())) };
    let Some(token) = authorization.trim().strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(refused(AuthError::Malformed.to_string()));
    };
    match scoped(engine, token).await {
        Ok(Ok(authorized)) => Ok(authorized),
        Ok(Err(why)) => {
            tracing::info!(reason = %why, "request refused");
            Err(refused(why.to_string()))
        }
        Err(err) => {
            tracing::error!(error = %err, "authentication failed");
            let body = serde_json::json!({ "errors": [{ "message": "internal error; see the server log", "extensions": { "code": "INTERNAL" } }] });
            Err((StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response())
        }
    }
}

/// The caller of a token, and the engine scoped to what it may read and change.
async fn scoped(engine: &Engine, token: &str) -> koers_engine::Result<Result<(Caller, Engine), AuthError>> {
    let caller = match engine.authenticate(token).await? {
        Ok(caller) => caller,
        Err(why) => return Ok(Err(why)),
    };
    let access = engine.access(&caller).await?;
    let engine = engine.scoped(access).acting_as(caller.acting());
    Ok(Ok((caller, engine)))
}

async fn graphql(State(state): State<AppState>, request: Request) -> Response {
    let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (caller, engine) = match caller(&state.engine, authorization).await {
        Ok(authorized) => authorized,
        Err(refused) => return refused,
    };
    within(state.config.request_timeout, answer(&state, caller, engine, request)).await
}

/// Reads, checks and executes one request or batch.
async fn answer(state: &AppState, caller: Caller, engine: Engine, request: Request) -> Response {
    let mut batch = match read_batch(request, state.config.max_body_bytes).await {
        Ok(batch) => batch,
        Err(refusal) => return refusal,
    };
    if let BatchRequest::Batch(operations) = &batch
        && operations.len() > state.config.max_batch
    {
        let message = format!(
            "a batch may hold at most {} operations, this one holds {}; send the rest in another request",
            state.config.max_batch,
            operations.len()
        );
        return refuse(StatusCode::OK, "VALIDATION", message);
    }
    // The engine scoped to the caller, and a DataLoader per operation: batches within one
    // query, never caches across operations.
    for request in batch.iter_mut() {
        request.data.insert(engine.clone());
        request.data.insert(loader::new(engine.clone()));
        request.data.insert(caller.clone());
    }
    let mut response = state.schema.execute_batch(batch).await;
    // Errors the engine did not raise (syntax, unknown fields, wrong argument types) are
    // the request's fault: they carry VALIDATION like every other client error.
    let responses = match &mut response {
        BatchResponse::Single(response) => std::slice::from_mut(response),
        BatchResponse::Batch(responses) => responses.as_mut_slice(),
    };
    for error in responses.iter_mut().flat_map(|response| &mut response.errors) {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "VALIDATION");
        }
    }
    GraphQLResponse::from(response).into_response()
}

/// How much of a refused body is still read, and for how long, before answering 413.
const DRAIN_BYTES: usize = 8 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads a body of at most `limit` bytes and parses it as one GraphQL request or a batch.
///
/// A larger body is refused with 413 and never kept. Its rest is read and thrown away (up to
/// [`DRAIN_BYTES`] and [`DRAIN_TIME`]) before answering: a server that answers while the
/// client is still sending and then closes makes the client's kernel see a reset, and most
/// clients then report "connection reset" instead of the 413. A body declared larger than
/// that is answered at once, without reading any of it.
async fn read_batch(request: Request, limit: usize) -> Result<BatchRequest, Response> {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut too_large = declared.is_some_and(|length| length > limit as u64);
    while !too_large && let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|err| {
            refuse(StatusCode::BAD_REQUEST, "VALIDATION", format!("cannot read the request body: {err}"))
        })?;
        too_large = bytes.len() + chunk.len() > limit;
        if !too_large {
            bytes.extend_from_slice(&chunk);
        }
    }
    if too_large {
        if declared.is_none_or(|length| length <= limit.saturating_add(DRAIN_BYTES) as u64) {
            let drain = async {
                let mut left = DRAIN_BYTES;
                while left > 0
                    && let Some(Ok(chunk)) = chunks.next().await
                {
                    left = left.saturating_sub(chunk.len());
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
        }
        let message = format!("the request body is larger than {limit} bytes, the most this server accepts");
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "VALIDATION", message));
    }
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    receive_batch_body(content_type, bytes.as_slice(), MultipartOptions::default()).await.map_err(|err| {
        refuse(StatusCode::BAD_REQUEST, "VALIDATION", format!("the body is not a GraphQL request: {err}"))
    })
}

/// Answers `answer`, or TIMEOUT once `limit` has passed. The timeout covers reading the body
/// as well as executing. When the time is up `answer` is dropped, which cancels it where it
/// waits: a slow upload stops being read, an open transaction rolls back.
async fn within(limit: Duration, answer: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, answer).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            let message = format!("the request did not finish within {limit:?} and was cancelled");
            refuse(StatusCode::OK, "TIMEOUT", message)
        }
    }
}

/// A request answered without (completing) execution: a GraphQL response with one error.
fn refuse(status: StatusCode, code: &'static str, message: String) -> Response {
    let response = async_graphql::Response::from_errors(vec![request_error(code, message)]);
    (status, GraphQLResponse::from(response)).into_response()
}

/// Subscriptions over WebSocket (graphql-transport-ws and graphql-ws), with the limits of
/// [`crate::socket`]. The token comes in the `Authorization` header of the upgrade or, as
/// browsers cannot set headers there, in the `connection_init` payload as
/// `{"Authorization": "Bearer <token>"}`.
async fn graphql_ws(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|protocols| protocols.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()));
    let Some(protocol) = protocol else {
        let message = "ask for the subprotocol `graphql-transport-ws` (or `graphql-ws`) in `Sec-WebSocket-Protocol`";
        return refuse(StatusCode::BAD_REQUEST, "VALIDATION", message.to_owned());
    };
    let from_header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // Messages up to eight times the limit are read, so that they can be answered; larger
    // ones close the socket unread.
    let readable = state.config.max_body_bytes.saturating_mul(8);
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).max_message_size(readable).max_frame_size(readable).on_upgrade(
        move |socket| {
            crate::socket::serve(socket, state.schema, state.engine, state.config, protocol, state.sockets, from_header)
        },
    )
}

/// 200 when the database answers and the scheduler (if this process runs one) is running
/// and keeping up; 503 otherwise, with what is wrong.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (backend, database) = state.engine.health().await;
    let scheduler = match state.engine.scheduler_health().await {
        Ok(health) => health,
        Err(err) => {
            tracing::error!(error = %err, "cannot check the scheduler");
            koers_engine::calendar::SchedulerHealth::Running
        }
    };
    if let Err(err) = &database {
        tracing::error!(error = %err, "health check failed");
    }
    let healthy = database.is_ok() && scheduler.is_healthy();
    let mut body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "database": backend,
        "scheduler": scheduler.status(),
    });
    use koers_engine::calendar::SchedulerHealth as S;
    let reason = match &scheduler {
        S::Stopped => Some("the scheduler has stopped: nothing on the calendar fires; restart koers".to_owned()),
        S::Stuck { since } => Some(format!("the scheduler has been in one run since {since}")),
        S::Failing { error } => Some(format!("the scheduler's runs fail: {error}")),
        S::Behind { due_at } => Some(format!("an occurrence due at {due_at} has not fired")),
        S::Off | S::Running => database.is_err().then(|| "the database does not answer".to_owned()),
    };
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use serde_json::{Value, json};

    use super::*;

    async fn body(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    /// On a paused clock: nothing sleeps, time moves only when the test says so.
    #[tokio::test(start_paused = true)]
    async fn a_request_that_does_not_finish_in_time_answers_timeout() {
        let limit = Duration::from_secs(30);
        let request = tokio::spawn(within(limit, pending()));
        // Let it start its clock.
        tokio::task::yield_now().await;
        tokio::time::advance(limit - Duration::from_millis(1)).await;
        assert!(!request.is_finished(), "answered before its time was up");
        tokio::time::advance(Duration::from_millis(1)).await;
        let response = request.await.expect("task");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body(response).await,
            json!({ "data": null, "errors": [{
                "message": "the request did not finish within 30s and was cancelled",
                "extensions": { "code": "TIMEOUT" },
            }] })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_finishes_in_time_is_answered_as_it_is() {
        let answer = async { (StatusCode::CREATED, "done").into_response() };
        let response = within(Duration::from_secs(30), answer).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
