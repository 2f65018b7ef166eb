//! koers-graphql: the GraphQL API of koers and the HTTP server that carries it.
//!
//! Resolvers translate between GraphQL and the engine's services; they hold no business
//! rules and no SQL.

pub mod audit;
pub mod board;
pub mod coaching;
pub mod cycle;
pub mod error;
pub mod koersplan;
pub mod limits;
pub mod loader;
pub mod org;
pub mod progress;
pub mod query;
pub mod scan;
pub mod schedule;
pub mod server;
mod socket;
pub mod types;

use async_graphql::{MergedObject, MergedSubscription, Schema};
use koers_engine::Engine;

pub use limits::ApiConfig;

/// The root of every mutation.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    cycle::CycleMutation,
    schedule::ScheduleMutation,
    progress::ProgressMutation,
    scan::ScanMutation,
    coaching::CoachingMutation,
    koersplan::KoersplanMutation,
    org::OrgMutation,
);

/// The root of every subscription.
#[derive(MergedSubscription, Default, Debug)]
pub struct Subscription(cycle::CycleSubscription);

pub type KoersSchema = Schema<query::Query, Mutation, Subscription>;

fn builder() -> async_graphql::SchemaBuilder<query::Query, Mutation, Subscription> {
    Schema::build(query::Query::default(), Mutation::default(), Subscription::default())
}

/// The schema with the default [`ApiConfig`], with the engine as context data. Each
/// request adds its own DataLoader.
pub fn schema(engine: Engine) -> KoersSchema {
    schema_with(engine, &ApiConfig::default())
}

/// The schema with the engine as context data, the depth and complexity limits of `config`
/// and introspection as `config` says.
pub fn schema_with(engine: Engine, config: &ApiConfig) -> KoersSchema {
    let builder = builder().data(engine).extension(limits::QueryLimits {
        max_depth: config.max_depth,
        max_complexity: config.max_complexity,
        introspection: config.introspection,
    });
    if config.introspection { builder.finish() } else { builder.disable_introspection().finish() }
}

/// The schema in SDL, as checked in at `graphql/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
