//! Editing the koersplan through the API: ambities, doelen, succescriteria and the items
//! of the meerjarenplanning, each checked as the importer checks them, each change
//! recorded in the trail with the version its editor read.
//!
//! Rows made here get a key from their title, unique among their siblings, so that an
//! import file can name them later (keys make imports idempotent).

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use crate::Engine;
use crate::access::{Change, kindcentra_of_doelen};
use crate::audit::Changed;
use crate::domain::{PlanningStatus, SchoolYear, fresh_key, slug};
use crate::error::{Error, Result};
use crate::store::entity::*;

/// A doel to add to an ambitie, with its succescriteria.
#[derive(Clone, Debug, Default)]
pub struct NewDoel {
    pub title: String,
    pub description: Option<String>,
    /// "Wanneer zijn we tevreden?": one description per succescriterium.
    pub succescriteria: Vec<String>,
}

/// What an edit of a doel changes; what is left `None` stays.
#[derive(Clone, Debug, Default)]
pub struct DoelEdit {
    pub title: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// An item to add to the meerjarenplanning of a doel.
#[derive(Clone, Debug)]
pub struct NewPlanningItem {
    pub school_year: SchoolYear,
    pub text: String,
    /// `gepland` when left out.
    pub status: Option<PlanningStatus>,
    pub note: Option<String>,
}

/// What an edit of a planning item changes; what is left `None` stays.
#[derive(Clone, Debug, Default)]
pub struct PlanningItemEdit {
    pub school_year: Option<SchoolYear>,
    pub text: Option<String>,
    pub status: Option<PlanningStatus>,
    /// `Some(None)` clears it.
    pub note: Option<Option<String>>,
}

/// A text a person must write, trimmed; VALIDATION naming `field` when blank.
fn required(field: &str, text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Validation(format!("`{field}` is empty: write what it is")));
    }
    Ok(text.to_owned())
}

/// An optional text, trimmed; blank is none.
fn optional(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A key for a new row from its title, unique among `taken`.
fn key_from(title: &str, fallback: &str, taken: &HashSet<String>) -> String {
    fresh_key(&slug(title, fallback), |k| taken.contains(k))
}

impl Engine {
    /// The kindcentrum of a doel, for a change of its koersplan: NOT_FOUND out of reach,
    /// FORBIDDEN beyond the role.
    async fn doel_for_change(&self, txn: &DatabaseTransaction, doel_id: i64) -> Result<(doel::Model, i64)> {
        let not_found = || Error::NotFound { what: "doel", id: doel_id.to_string() };
        let doel = doel::Entity::find_by_id(doel_id).one(txn).await?.ok_or_else(not_found)?;
        let kindcentrum = kindcentra_of_doelen(txn, &[doel_id]).await?.get(&doel_id).copied().ok_or_else(not_found)?;
        if !self.access_of().reaches_kindcentrum(kindcentrum) {
            return Err(not_found());
        }
        self.access_of().may(Change::Koersplan)?;
        Ok((doel, kindcentrum))
    }

    /// The koersplan of a doel: its period bounds the meerjarenplanning.
    async fn plan_of_doel(&self, txn: &DatabaseTransaction, doel: &doel::Model) -> Result<koersplan::Model> {
        let ambitie = ambitie::Entity::find_by_id(doel.ambitie_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "ambitie", id: doel.ambitie_id.to_string() })?;
        koersplan::Entity::find_by_id(ambitie.koersplan_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "koersplan", id: ambitie.koersplan_id.to_string() })
    }

    /// Adds a doel with its succescriteria to an ambitie, after its last doel.
    #[tracing::instrument(skip(self, input), fields(ambitie = ambitie_id))]
    pub async fn add_doel(
        &self,
        ambitie_id: i64,
        input: NewDoel,
    ) -> Result<(doel::Model, Vec<succescriterium::Model>)> {
        let title = required("title", &input.title)?;
        let criteria = input
            .succescriteria
            .iter()
            .enumerate()
            .map(|(i, c)| required(&format!("succescriteria[{i}]"), c))
            .collect::<Result<Vec<_>>>()?;
        let txn = crate::store::begin_write(self.db()).await?;
        let not_found = || Error::NotFound { what: "ambitie", id: ambitie_id.to_string() };
        let ambitie = ambitie::Entity::find_by_id(ambitie_id).one(&txn).await?.ok_or_else(not_found)?;
        let plan = koersplan::Entity::find_by_id(ambitie.koersplan_id).one(&txn).await?.ok_or_else(not_found)?;
        if !self.access_of().reaches_kindcentrum(plan.kindcentrum_id) {
            return Err(not_found());
        }
        self.access_of().may(Change::Koersplan)?;
        let siblings = doel::Entity::find().filter(doel::Column::AmbitieId.eq(ambitie_id)).all(&txn).await?;
        let taken: HashSet<String> = siblings.iter().map(|d| d.key.clone()).collect();
        let doel = doel::ActiveModel {
            ambitie_id: Set(ambitie_id),
            key: Set(key_from(&title, "doel", &taken)),
            position: Set(siblings.iter().map(|d| d.position).max().unwrap_or(0) + 1),
            title: Set(title),
            description: Set(optional(input.description)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let within = Some(plan.kindcentrum_id);
        let mut changes = vec![Changed::of("doel", doel.id, None, Some(&doel)).within(within, None)];
        let mut saved = Vec::with_capacity(criteria.len());
        let mut taken = HashSet::new();
        for (position, description) in (1..).zip(criteria) {
            let key = key_from(&description, "criterium", &taken);
            taken.insert(key.clone());
            let row = succescriterium::ActiveModel {
                doel_id: Set(doel.id),
                key: Set(key),
                position: Set(position),
                description: Set(description),
                indicator_id: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            changes.push(Changed::of("succescriterium", row.id, None, Some(&row)).within(within, None));
            saved.push(row);
        }
        self.record_changes(&txn, changes).await?;
        txn.commit().await?;
        Ok((doel, saved))
    }

    /// Changes the title or description of a doel read at `expected_version`.
    #[tracing::instrument(skip(self, edit), fields(doel = doel_id))]
    pub async fn update_doel(&self, doel_id: i64, expected_version: i32, edit: DoelEdit) -> Result<doel::Model> {
        let title = edit.title.as_deref().map(|t| required("title", t)).transpose()?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (before, kindcentrum) = self.doel_for_change(&txn, doel_id).await?;
        self.expect_version(&txn, "doel", doel_id, Some(expected_version)).await?;
        let mut after = before.clone();
        if let Some(title) = title {
            after.title = title;
        }
        if let Some(description) = edit.description {
            after.description = optional(description);
        }
        if after == before {
            return Ok(before);
        }
        let after = after.into_active_model().reset_all().update(&txn).await?;
        self.record_changes(
            &txn,
            vec![Changed::of("doel", doel_id, Some(&before), Some(&after)).within(Some(kindcentrum), None)],
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Adds a succescriterium to a doel, after its last.
    #[tracing::instrument(skip(self, description), fields(doel = doel_id))]
    pub async fn add_succescriterium(&self, doel_id: i64, description: &str) -> Result<succescriterium::Model> {
        let description = required("description", description)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (_, kindcentrum) = self.doel_for_change(&txn, doel_id).await?;
        let siblings =
            succescriterium::Entity::find().filter(succescriterium::Column::DoelId.eq(doel_id)).all(&txn).await?;
        let taken: HashSet<String> = siblings.iter().map(|c| c.key.clone()).collect();
        let row = succescriterium::ActiveModel {
            doel_id: Set(doel_id),
            key: Set(key_from(&description, "criterium", &taken)),
            position: Set(siblings.iter().map(|c| c.position).max().unwrap_or(0) + 1),
            description: Set(description),
            indicator_id: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.record_changes(
            &txn,
            vec![Changed::of("succescriterium", row.id, None, Some(&row)).within(Some(kindcentrum), None)],
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Rewrites a succescriterium read at `expected_version`.
    #[tracing::instrument(skip(self, description), fields(succescriterium = id))]
    pub async fn update_succescriterium(
        &self,
        id: i64,
        expected_version: i32,
        description: &str,
    ) -> Result<succescriterium::Model> {
        let description = required("description", description)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let before = succescriterium::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "succescriterium", id: id.to_string() })?;
        let (_, kindcentrum) = self.doel_for_change(&txn, before.doel_id).await.map_err(|e| {
            if matches!(e, Error::NotFound { .. }) {
                Error::NotFound { what: "succescriterium", id: id.to_string() }
            } else {
                e
            }
        })?;
        self.expect_version(&txn, "succescriterium", id, Some(expected_version)).await?;
        if before.description == description {
            return Ok(before);
        }
        let mut after = before.clone();
        after.description = description;
        let after = after.into_active_model().reset_all().update(&txn).await?;
        self.record_changes(
            &txn,
            vec![Changed::of("succescriterium", id, Some(&before), Some(&after)).within(Some(kindcentrum), None)],
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Adds an item to the meerjarenplanning of a doel, for a school year of its plan.
    #[tracing::instrument(skip(self, input), fields(doel = doel_id))]
    pub async fn add_planning_item(&self, doel_id: i64, input: NewPlanningItem) -> Result<planning_item::Model> {
        let text = required("text", &input.text)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (doel, kindcentrum) = self.doel_for_change(&txn, doel_id).await?;
        let plan = self.plan_of_doel(&txn, &doel).await?;
        within_plan(&plan, input.school_year)?;
        let siblings: Vec<(String, i32)> = planning_item::Entity::find()
            .select_only()
            .columns([planning_item::Column::Key, planning_item::Column::Position])
            .filter(planning_item::Column::DoelId.eq(doel_id))
            .into_tuple()
            .all(&txn)
            .await?;
        let taken: HashSet<String> = siblings.iter().map(|(k, _)| k.clone()).collect();
        let row = planning_item::ActiveModel {
            doel_id: Set(doel_id),
            key: Set(key_from(&text, "item", &taken)),
            position: Set(siblings.iter().map(|(_, p)| *p).max().unwrap_or(0) + 1),
            school_year: Set(input.school_year),
            text: Set(text),
            status: Set(input.status.unwrap_or(PlanningStatus::Gepland)),
            note: Set(optional(input.note)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.record_changes(
            &txn,
            vec![Changed::of("planning_item", row.id, None, Some(&row)).within(Some(kindcentrum), None)],
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Changes a planning item read at `expected_version`: its status (gepland, gestart,
    /// afgerond, vervallen), text, note or school year.
    #[tracing::instrument(skip(self, edit), fields(planning_item = id))]
    pub async fn update_planning_item(
        &self,
        id: i64,
        expected_version: i32,
        edit: PlanningItemEdit,
    ) -> Result<planning_item::Model> {
        let text = edit.text.as_deref().map(|t| required("text", t)).transpose()?;
        let txn = crate::store::begin_write(self.db()).await?;
        let before = planning_item::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "planning item", id: id.to_string() })?;
        let (doel, kindcentrum) = self.doel_for_change(&txn, before.doel_id).await.map_err(|e| {
            if matches!(e, Error::NotFound { .. }) {
                Error::NotFound { what: "planning item", id: id.to_string() }
            } else {
                e
            }
        })?;
        self.expect_version(&txn, "planning_item", id, Some(expected_version)).await?;
        let mut after = before.clone();
        if let Some(year) = edit.school_year {
            within_plan(&self.plan_of_doel(&txn, &doel).await?, year)?;
            after.school_year = year;
        }
        if let Some(text) = text {
            after.text = text;
        }
        if let Some(status) = edit.status {
            after.status = status;
        }
        if let Some(note) = edit.note {
            after.note = optional(note);
        }
        if after == before {
            return Ok(before);
        }
        let after = after.into_active_model().reset_all().update(&txn).await?;
        self.record_changes(
            &txn,
            vec![Changed::of("planning_item", id, Some(&before), Some(&after)).within(Some(kindcentrum), None)],
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// A planning item's school year lies within its plan's period.
fn within_plan(plan: &koersplan::Model, year: SchoolYear) -> Result<()> {
    let (first, last) = (plan.first_school_year, plan.last_school_year);
    if year < first || year > last {
        return Err(Error::Validation(format!(
            "`schoolYear` {year} lies outside the period of koersplan {} ({first} .. {last}): plan it within those years",
            plan.id
        )));
    }
    Ok(())
}
