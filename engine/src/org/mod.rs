//! Read services: the organisation, koersplannen and indicators, fetched in batches.
//!
//! Every function that answers "the children of these parents" takes all parent ids at
//! once and answers with one statement, so callers (the GraphQL DataLoaders) issue a
//! fixed number of statements however many rows a query touches.

pub mod edit;
pub mod keys;

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{
    Alias, Asterisk, ColumnRef, Expr, ExprTrait, Func, IntoColumnRef, Order, Query, SelectStatement, WindowStatement,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryTrait};

use crate::Engine;
use crate::access::Visible;
use crate::domain::Role;
use crate::error::{Error, Result};
use crate::store::entity::*;
use crate::store::query::{Page, Slice, group, through};

const PARENT: &str = "koers_parent";
const ROW: &str = "koers_row";
const TOTAL: &str = "koers_total";

impl Engine {
    pub async fn besturen(&self) -> Result<Vec<bestuur::Model>> {
        let rows = bestuur::Entity::find()
            .order_by_asc(bestuur::Column::Name)
            .order_by_asc(bestuur::Column::Id)
            .all(self.db())
            .await?;
        Ok(self.visible(rows))
    }

    pub async fn kindcentra(&self) -> Result<Vec<kindcentrum::Model>> {
        let rows = kindcentrum::Entity::find()
            .order_by_asc(kindcentrum::Column::Name)
            .order_by_asc(kindcentrum::Column::Id)
            .all(self.db())
            .await?;
        Ok(self.visible(rows))
    }

    pub async fn koersplan(&self, id: i64) -> Result<Option<koersplan::Model>> {
        Ok(self.visible_one(koersplan::Entity::find_by_id(id).one(self.db()).await?))
    }

    /// Rows of a table by id, for references from other rows.
    async fn by_ids<E: EntityTrait>(&self, id_col: E::Column, ids: &[i64]) -> Result<Vec<E::Model>>
    where
        E::Model: Visible,
    {
        Ok(self.visible(E::find().filter(id_col.is_in(ids.iter().copied())).all(self.db()).await?))
    }

    pub async fn besturen_by_id(&self, ids: &[i64]) -> Result<Vec<bestuur::Model>> {
        self.by_ids::<bestuur::Entity>(bestuur::Column::Id, ids).await
    }

    pub async fn kindcentra_by_id(&self, ids: &[i64]) -> Result<Vec<kindcentrum::Model>> {
        self.by_ids::<kindcentrum::Entity>(kindcentrum::Column::Id, ids).await
    }

    pub async fn onderdelen_by_id(&self, ids: &[i64]) -> Result<Vec<onderdeel::Model>> {
        self.by_ids::<onderdeel::Entity>(onderdeel::Column::Id, ids).await
    }

    pub async fn locaties_by_id(&self, ids: &[i64]) -> Result<Vec<locatie::Model>> {
        self.by_ids::<locatie::Entity>(locatie::Column::Id, ids).await
    }

    pub async fn groepen_by_id(&self, ids: &[i64]) -> Result<Vec<groep::Model>> {
        self.by_ids::<groep::Entity>(groep::Column::Id, ids).await
    }

    pub async fn teams_by_id(&self, ids: &[i64]) -> Result<Vec<team::Model>> {
        self.by_ids::<team::Entity>(team::Column::Id, ids).await
    }

    pub async fn professionals_by_id(&self, ids: &[i64]) -> Result<Vec<professional::Model>> {
        self.by_ids::<professional::Entity>(professional::Column::Id, ids).await
    }

    pub async fn indicators_by_id(&self, ids: &[i64]) -> Result<Vec<indicator::Model>> {
        self.by_ids::<indicator::Entity>(indicator::Column::Id, ids).await
    }

    pub async fn cycles_by_id(&self, ids: &[i64]) -> Result<Vec<cycle::Model>> {
        self.by_ids::<cycle::Entity>(cycle::Column::Id, ids).await
    }

    pub async fn measurements_by_id(&self, ids: &[i64]) -> Result<Vec<measurement::Model>> {
        self.by_ids::<measurement::Entity>(measurement::Column::Id, ids).await
    }

    /// The indicators whose scope is (part of) each kindcentrum, by key.
    pub async fn indicators_of_kindcentra(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<indicator::Model>>> {
        use indicator::Column as C;
        self.children::<indicator::Entity, _>(C::KindcentrumId, kindcentra, &[C::Key], |i| {
            i.kindcentrum_id.unwrap_or_default()
        })
        .await
    }

    /// The rows whose `parent_col` is one of `ids`, grouped by it, in `order`; only those
    /// within the engine's access.
    pub async fn children<E, C>(
        &self,
        parent_col: C,
        ids: &[i64],
        order: &[C],
        parent: impl Fn(&E::Model) -> i64,
    ) -> Result<HashMap<i64, Vec<E::Model>>>
    where
        E: EntityTrait<Column = C>,
        C: ColumnTrait,
        E::Model: Visible,
    {
        let mut select = E::find().filter(parent_col.is_in(ids.iter().copied()));
        for col in order {
            select = select.order_by_asc(*col);
        }
        Ok(group(self.visible(select.all(self.db()).await?), parent))
    }

    pub async fn ambities_of(&self, koersplannen: &[i64]) -> Result<HashMap<i64, Vec<ambitie::Model>>> {
        use ambitie::Column as C;
        self.children::<ambitie::Entity, _>(C::KoersplanId, koersplannen, &[C::Position, C::Id], |a| a.koersplan_id)
            .await
    }

    pub async fn doelen_of(&self, ambities: &[i64]) -> Result<HashMap<i64, Vec<doel::Model>>> {
        use doel::Column as C;
        self.children::<doel::Entity, _>(C::AmbitieId, ambities, &[C::Position, C::Id], |d| d.ambitie_id).await
    }

    pub async fn succescriteria_of(&self, doelen: &[i64]) -> Result<HashMap<i64, Vec<succescriterium::Model>>> {
        use succescriterium::Column as C;
        self.children::<succescriterium::Entity, _>(C::DoelId, doelen, &[C::Position, C::Id], |c| c.doel_id).await
    }

    pub async fn koersplannen_of(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<koersplan::Model>>> {
        use koersplan::Column as C;
        self.children::<koersplan::Entity, _>(C::KindcentrumId, kindcentra, &[C::FirstSchoolYear, C::Id], |k| {
            k.kindcentrum_id
        })
        .await
    }

    pub async fn locaties_of(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<locatie::Model>>> {
        use locatie::Column as C;
        self.children::<locatie::Entity, _>(C::KindcentrumId, kindcentra, &[C::Name, C::Id], |l| l.kindcentrum_id).await
    }

    pub async fn onderdelen_of(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<onderdeel::Model>>> {
        use onderdeel::Column as C;
        self.children::<onderdeel::Entity, _>(C::KindcentrumId, kindcentra, &[C::Name, C::Id], |o| o.kindcentrum_id)
            .await
    }

    pub async fn groepen_of(&self, locaties: &[i64]) -> Result<HashMap<i64, Vec<groep::Model>>> {
        use groep::Column as C;
        self.children::<groep::Entity, _>(C::LocatieId, locaties, &[C::Name, C::Id], |g| g.locatie_id).await
    }

    pub async fn lrk_registrations_of(&self, locaties: &[i64]) -> Result<HashMap<i64, Vec<lrk_registration::Model>>> {
        use lrk_registration::Column as C;
        self.children::<lrk_registration::Entity, _>(C::LocatieId, locaties, &[C::Number], |r| r.locatie_id).await
    }

    pub async fn teams_of(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<team::Model>>> {
        use team::Column as C;
        self.children::<team::Entity, _>(C::KindcentrumId, kindcentra, &[C::Name, C::Id], |t| t.kindcentrum_id).await
    }

    pub async fn roles_of(&self, professionals: &[i64]) -> Result<HashMap<i64, Vec<Role>>> {
        use professional_role::Column as C;
        let rows = self
            .children::<professional_role::Entity, _>(C::ProfessionalId, professionals, &[C::Role], |r| {
                r.professional_id
            })
            .await?;
        Ok(rows.into_iter().map(|(id, rows)| (id, rows.into_iter().map(|r| r.role).collect())).collect())
    }

    /// The FTE history of professionals, oldest first.
    pub async fn fte_of(&self, professionals: &[i64]) -> Result<HashMap<i64, Vec<professional_fte::Model>>> {
        use professional_fte::Column as C;
        self.children::<professional_fte::Entity, _>(C::ProfessionalId, professionals, &[C::ValidFrom], |f| {
            f.professional_id
        })
        .await
    }

    /// The indicators of doelen, by name.
    pub async fn indicators_of(&self, doelen: &[i64]) -> Result<HashMap<i64, Vec<indicator::Model>>> {
        use doel_indicator::Column as L;
        let query = through::<indicator::Entity, doel_indicator::Entity>(L::DoelId, L::IndicatorId, doelen)
            .order_by((indicator::Entity, indicator::Column::Name), Order::Asc)
            .to_owned();
        self.linked::<indicator::Entity>(query, (doel_indicator::Entity, L::DoelId).into_column_ref()).await
    }

    /// The besturen of kindcentra.
    pub async fn besturen_of(&self, kindcentra: &[i64]) -> Result<HashMap<i64, Vec<bestuur::Model>>> {
        use kindcentrum_bestuur::Column as L;
        let query = through::<bestuur::Entity, kindcentrum_bestuur::Entity>(L::KindcentrumId, L::BestuurId, kindcentra)
            .order_by((bestuur::Entity, bestuur::Column::Name), Order::Asc)
            .to_owned();
        self.linked::<bestuur::Entity>(query, (kindcentrum_bestuur::Entity, L::KindcentrumId).into_column_ref()).await
    }

    /// The kindcentra of besturen.
    pub async fn kindcentra_of(&self, besturen: &[i64]) -> Result<HashMap<i64, Vec<kindcentrum::Model>>> {
        use kindcentrum_bestuur::Column as L;
        let query =
            through::<kindcentrum::Entity, kindcentrum_bestuur::Entity>(L::BestuurId, L::KindcentrumId, besturen)
                .order_by((kindcentrum::Entity, kindcentrum::Column::Name), Order::Asc)
                .to_owned();
        self.linked::<kindcentrum::Entity>(query, (kindcentrum_bestuur::Entity, L::BestuurId).into_column_ref()).await
    }

    /// The members of teams.
    pub async fn members_of(&self, teams: &[i64]) -> Result<HashMap<i64, Vec<professional::Model>>> {
        use team_member::Column as L;
        let query = through::<professional::Entity, team_member::Entity>(L::TeamId, L::ProfessionalId, teams)
            .order_by((professional::Entity, professional::Column::Name), Order::Asc)
            .to_owned();
        self.linked::<professional::Entity>(query, (team_member::Entity, L::TeamId).into_column_ref()).await
    }

    /// A page of the professionals working at each kindcentrum, by name.
    pub async fn professionals_of(
        &self,
        kindcentra: &[i64],
        page: Page,
    ) -> Result<HashMap<i64, Slice<professional::Model>>> {
        use professional_kindcentrum::{Column as L, Entity as Link};
        let query = through::<professional::Entity, Link>(L::KindcentrumId, L::ProfessionalId, kindcentra);
        let order = [
            (Expr::col((professional::Entity, professional::Column::Name)), Order::Asc),
            (Expr::col((professional::Entity, professional::Column::Id)), Order::Asc),
        ];
        self.paged::<professional::Entity>(query, (Link, L::KindcentrumId).into_column_ref(), &order, page).await
    }

    /// A page of the meerjarenplanning of each doel, by school year.
    pub async fn planning_of(&self, doelen: &[i64], page: Page) -> Result<HashMap<i64, Slice<planning_item::Model>>> {
        use planning_item::Column as C;
        let query = planning_item::Entity::find().filter(C::DoelId.is_in(doelen.iter().copied())).into_query();
        let order = [
            (Expr::col(C::SchoolYear), Order::Asc),
            (Expr::col(C::Position), Order::Asc),
            (Expr::col(C::Id), Order::Asc),
        ];
        self.paged::<planning_item::Entity>(query, C::DoelId.into_column_ref(), &order, page).await
    }

    /// A page of the measurements of each indicator, newest first.
    pub async fn measurements_of(
        &self,
        indicators: &[i64],
        page: Page,
    ) -> Result<HashMap<i64, Slice<measurement::Model>>> {
        use measurement::Column as C;
        let query = measurement::Entity::find().filter(C::IndicatorId.is_in(indicators.iter().copied())).into_query();
        let order = [
            (Expr::col(C::PeriodEnd), Order::Desc),
            (Expr::col(C::PeriodStart), Order::Desc),
            (Expr::col(C::Id), Order::Desc),
        ];
        self.paged::<measurement::Entity>(query, C::IndicatorId.into_column_ref(), &order, page).await
    }

    /// One page of an ordered select, with the length of the whole list.
    pub(crate) async fn page_of<E>(&self, select: sea_orm::Select<E>, page: Page) -> Result<Slice<E::Model>>
    where
        E: EntityTrait,
        E::Model: Send + Sync,
    {
        crate::store::query::page(self.db(), select, page).await
    }

    /// Runs a join `select` and groups its rows by the link column `parent`.
    pub(crate) async fn linked<E: EntityTrait>(
        &self,
        mut query: SelectStatement,
        parent: ColumnRef,
    ) -> Result<HashMap<i64, Vec<E::Model>>>
    where
        E::Model: Visible,
    {
        query.expr_as(Expr::col(parent), Alias::new(PARENT));
        let stmt = self.db().get_database_backend().build(&query);
        let rows = self.db().query_all_raw(stmt).await?;
        let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();
        for row in rows {
            let parent: i64 = row.try_get("", PARENT)?;
            let row = E::Model::from_query_result(&row, "")?;
            if row.visible(self.access_of()) {
                grouped.entry(parent).or_default().push(row);
            }
        }
        Ok(grouped)
    }

    /// One window-function statement that answers a page of each parent's list. Rows
    /// outside the engine's access are left out of the page (the totals count them).
    async fn paged<E: EntityTrait>(
        &self,
        mut inner: SelectStatement,
        parent: ColumnRef,
        order: &[(Expr, Order)],
        page: Page,
    ) -> Result<HashMap<i64, Slice<E::Model>>>
    where
        E::Model: Visible,
    {
        let mut window = WindowStatement::partition_by(parent.clone());
        for (expr, direction) in order {
            window.order_by_expr(expr.clone(), direction.clone());
        }
        inner
            .expr_as(Expr::col(parent.clone()), Alias::new(PARENT))
            .expr_window_as(Func::cust(Alias::new("ROW_NUMBER")), window, Alias::new(ROW))
            .expr_window_as(Func::count(Expr::col(Asterisk)), WindowStatement::partition_by(parent), Alias::new(TOTAL));
        // Bounded by `Page::new`: both fit a signed 64-bit number.
        let (first, last) = (page.offset as i64, (page.offset + page.limit + 1) as i64);
        // Each parent's first row comes along even when the page starts beyond its list, so
        // that every parent's total is known on every page.
        let row = || Expr::col(Alias::new(ROW));
        let outer = Query::select()
            .column(Asterisk)
            .from_subquery(inner, Alias::new("paged"))
            .cond_where(sea_orm::Condition::any().add(row().eq(1)).add(row().gt(first).and(row().lte(last))))
            .order_by(Alias::new(PARENT), Order::Asc)
            .order_by(Alias::new(ROW), Order::Asc)
            .to_owned();
        let stmt = self.db().get_database_backend().build(&outer);
        let rows = self.db().query_all_raw(stmt).await?;
        let mut pages: HashMap<i64, Slice<E::Model>> = HashMap::new();
        for row in rows {
            let parent: i64 = row.try_get("", PARENT)?;
            let total: i64 = row.try_get("", TOTAL)?;
            let number: i64 = row.try_get("", ROW)?;
            let slice = pages.entry(parent).or_default();
            slice.total = u64::try_from(total).unwrap_or(0);
            if number <= first {
                // Only the carrier of the total.
                continue;
            }
            if slice.items.len() as u64 == page.limit {
                slice.has_next = true;
            } else {
                slice.items.push(E::Model::from_query_result(&row, "")?);
            }
        }
        for slice in pages.values_mut() {
            self.access_of().retain(&mut slice.items);
        }
        Ok(pages)
    }
}

/// The FTE of a professional on a date: the value valid from the latest date on or
/// before it, or none before the first.
pub fn fte_on(history: &[professional_fte::Model], date: NaiveDate) -> Option<f64> {
    history.iter().filter(|f| f.valid_from <= date).max_by_key(|f| f.valid_from).map(|f| f.fte)
}

/// The pijlers of a koersplan, in order; an error when what is stored is not a list of texts.
pub fn pijlers(plan: &koersplan::Model) -> Result<Vec<String>> {
    serde_json::from_value(plan.pijlers.clone()).map_err(Error::stored_json)
}

impl Engine {
    pub async fn bestuur(&self, id: i64) -> Result<Option<bestuur::Model>> {
        Ok(self.visible_one(bestuur::Entity::find_by_id(id).one(self.db()).await?))
    }

    pub async fn kindcentrum(&self, id: i64) -> Result<Option<kindcentrum::Model>> {
        Ok(self.visible_one(kindcentrum::Entity::find_by_id(id).one(self.db()).await?))
    }

    /// A kindcentrum by the stable key of its import file.
    pub async fn kindcentrum_by_key(&self, key: &str) -> Result<Option<kindcentrum::Model>> {
        Ok(kindcentrum::Entity::find().filter(kindcentrum::Column::Key.eq(key)).one(self.db()).await?)
    }

    pub async fn bestuur_by_key(&self, key: &str) -> Result<Option<bestuur::Model>> {
        Ok(bestuur::Entity::find().filter(bestuur::Column::Key.eq(key)).one(self.db()).await?)
    }

    /// Whether nothing has been imported yet.
    pub async fn is_empty(&self) -> Result<bool> {
        use sea_orm::PaginatorTrait;
        Ok(kindcentrum::Entity::find().count(self.db()).await? == 0
            && bestuur::Entity::find().count(self.db()).await? == 0)
    }
}
