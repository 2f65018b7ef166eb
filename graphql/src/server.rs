//! The HTTP server: GraphiQL at `/`, GraphQL at `POST /graphql`, subscriptions over
//! WebSocket at `/graphql/ws`, health at `/healthz`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::{Html, IntoResponse};

use axum::routing::get;
use axum::{Json, Router};
use koers_engine::Engine;
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

async fn graphql(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    // A DataLoader per request: batches within one query, never caches across requests.
    let request = request.into_inner().data(loader::new(state.engine.clone()));
    let mut response = state.schema.execute(request).await;
    // Errors the engine did not raise (syntax, unknown fields, wrong argument types) are
    // the request's fault: they carry VALIDATION like every other client error.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "VALIDATION");
        }
    }
    response.into()
}

/// Subscriptions over WebSocket (graphql-transport-ws and graphql-ws).
async fn graphql_ws(State(state): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        let mut data = Data::default();
        data.insert(loader::new(state.engine.clone()));
        GraphQLWebSocket::new(stream, state.schema.clone(), protocol).with_data(data).serve()
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
