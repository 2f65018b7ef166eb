//! The root query, composed per domain.

use async_graphql::{Context, ID, MergedObject, Object, Result};
use koers_engine::Engine;
use koers_engine::access::token::Caller;

use crate::error::{IntoGraphql, not_found};
use crate::types::{Bestuur, Kindcentrum, Koersplan};

pub(crate) fn engine<'a>(ctx: &Context<'a>) -> &'a Engine {
    ctx.data_unchecked::<Engine>()
}

/// Who the request's changes are recorded as: its token, or `api` when the schema runs
/// without one (in-process tests).
pub(crate) fn actor(ctx: &Context<'_>) -> String {
    ctx.data_opt::<Caller>().map_or_else(|| "api".to_owned(), Caller::actor)
}

/// An id of the API as the engine's number; anything else cannot exist.
pub(crate) fn parse_id(id: &ID, what: &'static str) -> Result<i64> {
    id.parse::<i64>().map_err(|_| not_found(what, id.as_str()))
}

/// Besturen and kindcentra.
#[derive(Default, Debug)]
pub struct OrgQuery;

#[Object]
impl OrgQuery {
    /// Every bestuur, by name.
    async fn besturen(&self, ctx: &Context<'_>) -> Result<Vec<Bestuur>> {
        Ok(engine(ctx).besturen().await.gql()?.into_iter().map(Bestuur).collect())
    }

    async fn bestuur(&self, ctx: &Context<'_>, id: ID) -> Result<Bestuur> {
        let key = parse_id(&id, "bestuur")?;
        engine(ctx).bestuur(key).await.gql()?.map(Bestuur).ok_or_else(|| not_found("bestuur", key))
    }

    /// Every kindcentrum, by name.
    async fn kindcentra(&self, ctx: &Context<'_>) -> Result<Vec<Kindcentrum>> {
        Ok(engine(ctx).kindcentra().await.gql()?.into_iter().map(Kindcentrum).collect())
    }

    async fn kindcentrum(&self, ctx: &Context<'_>, id: ID) -> Result<Kindcentrum> {
        let key = parse_id(&id, "kindcentrum")?;
        engine(ctx).kindcentrum(key).await.gql()?.map(Kindcentrum).ok_or_else(|| not_found("kindcentrum", key))
    }
}

/// Koersplannen with their ambities, doelen and succescriteria.
#[derive(Default, Debug)]
pub struct KoersplanQuery;

#[Object]
impl KoersplanQuery {
    async fn koersplan(&self, ctx: &Context<'_>, id: ID) -> Result<Koersplan> {
        let key = parse_id(&id, "koersplan")?;
        engine(ctx).koersplan(key).await.gql()?.map(Koersplan).ok_or_else(|| not_found("koersplan", key))
    }
}

/// The root of every query.
#[derive(MergedObject, Default, Debug)]
pub struct Query(
    OrgQuery,
    KoersplanQuery,
    crate::cycle::CycleQuery,
    crate::schedule::ScheduleQuery,
    crate::scan::ScanQuery,
    crate::coaching::CoachingQuery,
    crate::board::RollupQuery,
    crate::audit::ChangeQuery,
);
