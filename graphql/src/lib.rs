//! koers-graphql: the GraphQL API of koers and the HTTP server that carries it.
//!
//! Resolvers translate between GraphQL and the engine's services; they hold no business
//! rules and no SQL.

pub mod error;
pub mod loader;
pub mod query;
pub mod server;
pub mod types;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use koers_engine::Engine;

pub type KoersSchema = Schema<query::Query, EmptyMutation, EmptySubscription>;

/// The schema, with the engine as context data. Each request adds its own DataLoader.
pub fn schema(engine: Engine) -> KoersSchema {
    Schema::build(query::Query::default(), EmptyMutation, EmptySubscription).data(engine).finish()
}

/// The schema in SDL, as checked in at `graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(query::Query::default(), EmptyMutation, EmptySubscription).finish().sdl()
}
