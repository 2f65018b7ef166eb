//! The HTTP server: GraphiQL at `/`, GraphQL at `POST /graphql`, subscriptions over
//! WebSocket at `/graphql/ws`, health at `/healthz`. GraphQL needs a token
//! (`Authorization: Bearer ...`); the health check and the GraphiQL page do not.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::response::{Html, IntoResponse};

use axum::routing::get;
use axum::{Json, Router};
use koers_engine::Engine;
use koers_engine::auth::{AuthError, Caller};
use tokio::net::TcpListener;

use crate::{KoersSchema, loader, schema};

#[derive(Clone)]
struct AppState {
    schema: KoersSchema,
    engine: Engine,
}

/// A bound, not yet running, server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and builds the routes.
    pub async fn bind(engine: Engine, addr: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server { listener, router: router(engine) })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await
    }
}

/// The routes of the API.
pub fn router(engine: Engine) -> Router {
    let state = AppState { schema: schema(engine.clone()), engine };
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

/// The caller of a request with `Authorization: Bearer <token>`, or the 401 answer.
async fn caller(engine: &Engine, authorization: Option<&str>) -> Result<Caller, Response> {
    let refused = |reason: String| {
        let body =
            serde_json::json!({ "errors": [{ "message": reason, "extensions": { "code": "UNAUTHENTICATED" } }] });
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Json(body)).into_response()
    };
    let Some(authorization) = authorization else { return Err(refused(AuthError::Missing.to_string())) };
    let Some(token) = authorization.trim().strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(refused(AuthError::Malformed.to_string()));
    };
    match engine.authenticate(token).await {
        Ok(Ok(caller)) => Ok(caller),
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

async fn graphql(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = match caller(&state.engine, authorization).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    // A DataLoader per request: batches within one query, never caches across requests.
    let request = request.into_inner().data(loader::new(state.engine.clone())).data(caller);
    let mut response = state.schema.execute(request).await;
    // Errors the engine did not raise (syntax, unknown fields, wrong argument types) are
    // the request's fault: they carry VALIDATION like every other client error.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "VALIDATION");
        }
    }
    GraphQLResponse::from(response).into_response()
}

/// Subscriptions over WebSocket (graphql-transport-ws and graphql-ws). The token comes in
/// the `Authorization` header of the upgrade or, as browsers cannot set headers there, in
/// the `connection_init` payload as `{"Authorization": "Bearer <token>"}`.
async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let from_header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        let engine = state.engine.clone();
        GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let from_payload = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|key| payload.get(*key).and_then(|v| v.as_str()).map(str::to_owned));
                let authorization = from_payload.or(from_header);
                let caller = caller(&engine, authorization.as_deref()).await.map_err(|_| {
                    async_graphql::Error::new("UNAUTHENTICATED: send a valid `Authorization: Bearer <token>`")
                })?;
                let mut data = Data::default();
                data.insert(loader::new(engine.clone()));
                data.insert(caller);
                Ok(data)
            })
            .serve()
    })
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (backend, health) = state.engine.health().await;
    match health {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok", "database": backend }))),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "unavailable", "database": backend })))
        }
    }
}
