//! Batched query helpers every domain reads with: pages of a parent's list, rows grouped by
//! parent, link tables, and the latest row of each parent.

use std::collections::HashMap;
use std::hash::Hash;

use sea_orm::sea_query::{Alias, ColumnRef, Expr, ExprTrait, IntoColumnRef, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

use crate::error::{Error, Result};

/// Which part of a list to fetch: `limit` rows after the first `offset`.
///
/// Both are bounded by [`Page::new`] to what a store can count, so no statement is handed an
/// offset it cannot represent and no arithmetic on them overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    pub(crate) offset: u64,
    pub(crate) limit: u64,
}

impl Page {
    /// The largest offset (and page size) a page may have: far beyond any list koers
    /// keeps, and small enough that `offset + limit + 1` is a signed 64-bit number, the
    /// widest integer both stores take.
    pub const MAX: u64 = (i64::MAX / 4) as u64;

    /// `limit` rows after the first `offset`, or VALIDATION when either is beyond
    /// [`Page::MAX`].
    pub fn new(offset: u64, limit: u64) -> Result<Page> {
        if offset > Page::MAX {
            return Err(Error::Validation(format!(
                "a list cannot start after position {offset}: no list holds more than {} items",
                Page::MAX
            )));
        }
        if limit > Page::MAX {
            return Err(Error::Validation(format!("a page cannot hold {limit} items")));
        }
        Ok(Page { offset, limit })
    }

    /// The first `limit` rows.
    pub fn first(limit: u64) -> Page {
        Page { offset: 0, limit: Ord::min(limit, Page::MAX) }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// One page of a parent's list.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice<M> {
    pub items: Vec<M>,
    /// Whether rows follow this page.
    pub has_next: bool,
    /// The length of the whole list.
    pub total: u64,
}

impl<M> Default for Slice<M> {
    fn default() -> Self {
        Slice { items: Vec::new(), has_next: false, total: 0 }
    }
}

/// A page of the rows `select` picks, with the length of the whole list.
pub(crate) async fn page<E, C>(db: &C, select: sea_orm::Select<E>, page: Page) -> Result<Slice<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = select.clone().count(db).await?;
    let mut items = select.offset(page.offset).limit(page.limit + 1).all(db).await?;
    let has_next = items.len() as u64 > page.limit;
    items.truncate(page.limit as usize);
    Ok(Slice { items, has_next, total })
}

/// Groups rows by a parent id taken from each row.
pub(crate) fn group<K: Eq + Hash, M>(rows: Vec<M>, parent: impl Fn(&M) -> K) -> HashMap<K, Vec<M>> {
    let mut grouped: HashMap<K, Vec<M>> = HashMap::new();
    for row in rows {
        grouped.entry(parent(&row)).or_default().push(row);
    }
    grouped
}

/// The rows of `E` linked through the link table `L` to any of `parents`: `parent` and
/// `child` are the link's columns, and `child` refers to `E`'s `id`.
pub(crate) fn through<E: EntityTrait, L: EntityTrait>(
    parent: L::Column,
    child: L::Column,
    parents: &[i64],
) -> SelectStatement {
    E::find()
        .filter(parent.is_in(parents.iter().copied()))
        .into_query()
        .inner_join(L::default(), Expr::col((L::default(), child)).equals((E::default(), Alias::new("id"))))
        .to_owned()
}

/// The alias of the inner table in [`latest_of`].
pub(crate) const LATER: &str = "koers_later";

/// The id of the row of `entity` that comes last by `order` among those whose `key`
/// equals `outer_key` and that pass `within` (a condition on the table aliased
/// [`LATER`]): a correlated subquery that an index on (key, order...) answers with one
/// seek, instead of reading every older row and dropping it in Rust. `order` ends with
/// the id, so ties are broken by the row written last.
pub(crate) fn latest_of<E: EntityTrait>(
    entity: E,
    id: E::Column,
    key: E::Column,
    order: &[E::Column],
    within: sea_orm::Condition,
    outer_key: impl IntoColumnRef,
) -> SelectStatement {
    let later = Alias::new(LATER);
    let mut inner = Query::select();
    inner
        .column((later.clone(), id))
        .from_as(entity, later.clone())
        .and_where(Expr::col((later.clone(), key)).equals(outer_key))
        .cond_where(within);
    for column in order {
        inner.order_by((later.clone(), *column), Order::Desc);
    }
    inner.limit(1);
    inner.to_owned()
}

/// Keeps the rows whose `id` is the latest of one of `parents` (rows of `parent`):
/// `latest` gives the subquery of [`latest_of`] for the parent's id column. Driven from
/// the parents, so each one costs one index seek however many older rows it has.
pub(crate) fn latest_of_each<P: EntityTrait>(
    id: impl IntoColumnRef,
    parent: P,
    parent_id: P::Column,
    parents: impl IntoIterator<Item = i64>,
    latest: impl FnOnce(ColumnRef) -> SelectStatement,
) -> Expr {
    let outer = (parent, parent_id).into_column_ref();
    Expr::col(id).in_subquery(
        Query::select()
            .expr(Expr::from(latest(outer)))
            .from(parent)
            .and_where(Expr::col((parent, parent_id)).is_in(parents))
            .to_owned(),
    )
}
