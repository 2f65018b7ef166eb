//! What one request may ask of the server, and whether the schema describes itself.
//!
//! [`ApiConfig`] holds the switches: the schema enforces depth, complexity and
//! introspection (for HTTP and WebSocket alike), the server the body size, the batch size
//! and the time a request may take. Every refusal is a GraphQL error with
//! `extensions.code` `VALIDATION` or `TIMEOUT` (an oversized body: HTTP 413).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};

use crate::error::request_error;

/// The switches and limits of the API. The defaults are what `koers serve` runs with; they
/// leave room for every query of the README and the tests, GraphiQL's introspection query
/// included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Answer `__schema` and `__type` (GraphiQL needs them to offer completion).
    pub introspection: bool,
    /// The deepest nesting of fields a query may have (`{ a { b } }` is 2).
    pub max_depth: usize,
    /// The most a query may cost: each field costs 1, a connection its page size (`first`,
    /// default 50) times what is selected inside it.
    pub max_complexity: usize,
    /// The most operations one batched request (a JSON array of requests) may hold.
    pub max_batch: usize,
    /// The largest request body, and the largest WebSocket message, in bytes.
    pub max_body_bytes: usize,
    /// How long a `POST /graphql` may take, reading its body included, before it is
    /// cancelled. Operations over the WebSocket are not timed: a subscription lasts as long
    /// as its client wants.
    pub request_timeout: Duration,
    /// How long a WebSocket may stay open without `connection_init`.
    pub ws_init_timeout: Duration,
    /// The most operations one WebSocket runs at once.
    pub max_subscriptions_per_socket: usize,
    /// The most WebSockets one token holds open at once.
    pub max_sockets_per_token: usize,
    /// How long a connection may take to send a request's headers, and how long it may
    /// stay idle between requests, before it is closed.
    pub header_read_timeout: Duration,
    /// The most connections served at once; more wait in the listener's queue until one
    /// closes, instead of taking file descriptors the store and the log need.
    pub max_connections: usize,
}

impl ApiConfig {
    pub const DEFAULT_MAX_DEPTH: usize = 15;
    /// A full page of 500 items with 17 fields each, or a default page of 50 with 197.
    pub const DEFAULT_MAX_COMPLEXITY: usize = 10_000;
    pub const DEFAULT_MAX_BATCH: usize = 10;
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_WS_INIT_TIMEOUT: Duration = Duration::from_secs(5);
    /// A page of the web front follows a handful of lists; a hundred leaves room for any.
    pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET: usize = 100;
    /// A user with a few tabs open on a few devices.
    pub const DEFAULT_MAX_SOCKETS_PER_TOKEN: usize = 20;
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Half of the usual limit of 1,024 open files a process starts with.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            introspection: true,
            max_depth: ApiConfig::DEFAULT_MAX_DEPTH,
            max_complexity: ApiConfig::DEFAULT_MAX_COMPLEXITY,
            max_batch: ApiConfig::DEFAULT_MAX_BATCH,
            max_body_bytes: ApiConfig::DEFAULT_MAX_BODY_BYTES,
            request_timeout: ApiConfig::DEFAULT_REQUEST_TIMEOUT,
            ws_init_timeout: ApiConfig::DEFAULT_WS_INIT_TIMEOUT,
            max_subscriptions_per_socket: ApiConfig::DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET,
            max_sockets_per_token: ApiConfig::DEFAULT_MAX_SOCKETS_PER_TOKEN,
            header_read_timeout: ApiConfig::DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: ApiConfig::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Refuses, before anything runs, a query nested deeper or costing more than allowed, and
/// introspection when it is off.
///
/// `SchemaBuilder::limit_depth` and `limit_complexity` would refuse the same queries, but
/// with "Query is nested too deep." and no code; these refusals say how deep or costly the
/// query is and what the limit is, so a client knows what to change. And a schema built with
/// `disable_introspection` answers `__schema` with a silent null; this says why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for QueryLimits {
    /// Parses the document itself (async-graphql then uses this parse) and refuses, in time
    /// linear in the document, what must never reach the parser's own checks or
    /// validation: both follow every fragment spread without counting, so fragments that
    /// fan out or spread themselves would hold a runtime thread for minutes.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if holds_nul(&request.query, &request.variables) {
            return Err(request_error(
                "VALIDATION",
                "a text holds a NUL character (\\u0000), which no text may contain",
            ));
        }
        let document = request.parsed_query().map_err(|err| {
            let mut refused = request_error("VALIDATION", quoted_at_most(&err.message, MAX_QUOTED));
            refused.locations = err.locations.clone();
            refused
        })?;
        match spread_size(document) {
            Err(fragment) => {
                return Err(request_error(
                    "VALIDATION",
                    format!(
                        "fragment `{fragment}` spreads itself, through its own fields or through the fragments it \
                         spreads: a fragment may spread only fragments that do not lead back to it"
                    ),
                ));
            }
            Ok(spread) if spread > self.max_complexity => {
                return Err(request_error(
                    "VALIDATION",
                    format!(
                        "the query's fragments spread to more than {max} fields; at most {max} are allowed: spread \
                         each fragment fewer times",
                        max = self.max_complexity
                    ),
                ));
            }
            Ok(_) => {}
        }
        if !self.introspection && asks_introspection(document) {
            return Err(request_error(
                "VALIDATION",
                "introspection is turned off on this server: `__schema` and `__type` are not answered",
            ));
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.max_depth {
            return Err(vec![request_error(
                "VALIDATION",
                format!("the query nests fields {} levels deep; at most {} are allowed", result.depth, self.max_depth),
            )]);
        }
        if result.complexity > self.max_complexity {
            return Err(vec![request_error(
                "VALIDATION",
                format!(
                    "the query is too complex: it costs {}, at most {} is allowed (every field costs 1, a connection \
                     its page size `first` times what it selects); ask smaller pages or fewer fields",
                    result.complexity, self.max_complexity
                ),
            )]);
        }
        Ok(result)
    }
}

/// Whether any operation or fragment selects `__schema` or `__type`. Both exist only on the
/// query root, but looking everywhere is simpler than following fragments to the root.
fn asks_introspection(document: &ExecutableDocument) -> bool {
    fn selects(set: &SelectionSet) -> bool {
        set.items.iter().any(|selection| match &selection.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || selects(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => selects(&fragment.node.selection_set.node),
            // Every fragment is looked at on its own.
            Selection::FragmentSpread(_) => false,
        })
    }
    document.operations.iter().any(|(_, operation)| selects(&operation.node.selection_set.node))
        || document.fragments.values().any(|fragment| selects(&fragment.node.selection_set.node))
}

/// The most characters of the request an error message quotes: a parse error quotes the
/// line it failed on, which may be the whole document.
const MAX_QUOTED: usize = 500;

/// `message`, cut to `limit` characters with a note that it was.
fn quoted_at_most(message: &str, limit: usize) -> String {
    match message.char_indices().nth(limit) {
        Some((end, _)) => {
            format!("{} … (cut: the message quoted {} characters)", &message[..end], message.chars().count())
        }
        None => message.to_owned(),
    }
}

/// Whether the text or the variables of an operation hold a NUL character. No store keeps
/// one in text (PostgreSQL refuses it), so such an operation is refused whole before it
/// runs, on every transport, rather than failing halfway as a database error.
fn holds_nul(query: &str, variables: &Variables) -> bool {
    fn in_value(value: &async_graphql::Value) -> bool {
        match value {
            async_graphql::Value::String(text) => text.contains('\0'),
            async_graphql::Value::List(items) => items.iter().any(in_value),
            async_graphql::Value::Object(fields) => fields.values().any(in_value),
            _ => false,
        }
    }
    query.contains('\0') || query.contains("\\u0000") || variables.values().any(in_value)
}

/// How many fields the operations of a document select once every fragment spread is
/// replaced by its fragment, saturating at `usize::MAX`, or the name of a fragment that
/// spreads itself. Each fragment is counted once and its count reused, so this takes time
/// linear in the document however the spreads fan out. Validation walks every spread: a
/// fan-out or a cycle reaching it holds a runtime thread for minutes.
fn spread_size(document: &ExecutableDocument) -> Result<usize, String> {
    use std::collections::HashMap;

    use async_graphql::Name;

    enum Count {
        Counting,
        Counted(usize),
    }

    fn size<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        counts: &mut HashMap<&'a Name, Count>,
    ) -> Result<usize, String> {
        set.items.iter().try_fold(0usize, |total, selection| {
            let more = match &selection.node {
                Selection::Field(field) => {
                    1usize.saturating_add(size(&field.node.selection_set.node, document, counts)?)
                }
                Selection::InlineFragment(fragment) => size(&fragment.node.selection_set.node, document, counts)?,
                Selection::FragmentSpread(spread) => {
                    let Some((name, fragment)) = document.fragments.get_key_value(&spread.node.fragment_name.node)
                    else {
                        // Validation names the unknown fragment.
                        return Ok(total);
                    };
                    match counts.get(name) {
                        Some(Count::Counted(known)) => *known,
                        Some(Count::Counting) => return Err(name.to_string()),
                        None => {
                            counts.insert(name, Count::Counting);
                            let n = size(&fragment.node.selection_set.node, document, counts)?;
                            counts.insert(name, Count::Counted(n));
                            n
                        }
                    }
                }
            };
            Ok(total.saturating_add(more))
        })
    }
    let mut counts = HashMap::new();
    document.operations.iter().try_fold(0usize, |total, (_, operation)| {
        Ok(total.saturating_add(size(&operation.node.selection_set.node, document, &mut counts)?))
    })
}
