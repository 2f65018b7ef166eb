//! Editing the koersplan: doelen with their succescriteria and the meerjarenplanning.
//! Every edit of a row a screen shows passes the version it read (`expectedVersion`);
//! a row that moved on since answers VERSION_CONFLICT.

use async_graphql::{Context, ID, InputObject, Object, Result};
use koers_engine::domain::SchoolYear;
use koers_engine::plan::edit::{DoelEdit, NewDoel, NewPlanningItem, PlanningItemEdit};

use crate::error::{IntoGraphql, validation};
use crate::query::{engine, parse_id};
use crate::types::{Doel, PlanningItem, PlanningStatus, Succescriterium};

fn school_year(text: &str) -> Result<SchoolYear> {
    text.parse::<SchoolYear>().map_err(|e| validation(&format!("`schoolYear`: {e}")))
}

/// A doel to add to an ambitie, with its succescriteria.
#[derive(InputObject, Debug)]
pub struct AddDoelInput {
    pub ambitie_id: ID,
    /// "Wat willen we?"
    pub title: String,
    pub description: Option<String>,
    /// "Wanneer zijn we tevreden?": one text per succescriterium.
    #[graphql(default)]
    pub succescriteria: Vec<String>,
}

/// A change of a doel; what is left out stays, an empty description clears it.
#[derive(InputObject, Debug)]
pub struct UpdateDoelInput {
    pub doel_id: ID,
    /// The `version` of the doel as it was read.
    pub expected_version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// An item of the meerjarenplanning to add to a doel.
#[derive(InputObject, Debug)]
pub struct AddPlanningItemInput {
    pub doel_id: ID,
    /// A school year of the koersplan's period, such as `2021-2022`.
    pub school_year: String,
    pub text: String,
    /// GEPLAND when left out.
    pub status: Option<PlanningStatus>,
    pub note: Option<String>,
}

/// A change of a planning item; what is left out stays, an empty note clears it.
#[derive(InputObject, Debug)]
pub struct UpdatePlanningItemInput {
    pub planning_item_id: ID,
    /// The `version` of the item as it was read.
    pub expected_version: i32,
    pub status: Option<PlanningStatus>,
    pub text: Option<String>,
    pub note: Option<String>,
    pub school_year: Option<String>,
}

#[derive(Default, Debug)]
pub struct KoersplanMutation;

#[Object]
impl KoersplanMutation {
    /// Adds a doel with its succescriteria to an ambitie, after its last doel.
    async fn add_doel(&self, ctx: &Context<'_>, input: AddDoelInput) -> Result<Doel> {
        let ambitie = parse_id(&input.ambitie_id, "ambitie")?;
        let doel = NewDoel { title: input.title, description: input.description, succescriteria: input.succescriteria };
        let (doel, _) = engine(ctx).add_doel(ambitie, doel).await.gql()?;
        Ok(Doel(doel))
    }

    /// Changes the title or description of a doel.
    async fn update_doel(&self, ctx: &Context<'_>, input: UpdateDoelInput) -> Result<Doel> {
        let id = parse_id(&input.doel_id, "doel")?;
        let edit = DoelEdit { title: input.title, description: input.description.map(Some) };
        engine(ctx).update_doel(id, input.expected_version, edit).await.gql().map(Doel)
    }

    /// Adds a succescriterium to a doel.
    async fn add_succescriterium(
        &self,
        ctx: &Context<'_>,
        doel_id: ID,
        description: String,
    ) -> Result<Succescriterium> {
        let id = parse_id(&doel_id, "doel")?;
        engine(ctx).add_succescriterium(id, &description).await.gql().map(Succescriterium)
    }

    /// Rewrites a succescriterium.
    async fn update_succescriterium(
        &self,
        ctx: &Context<'_>,
        succescriterium_id: ID,
        expected_version: i32,
        description: String,
    ) -> Result<Succescriterium> {
        let id = parse_id(&succescriterium_id, "succescriterium")?;
        engine(ctx).update_succescriterium(id, expected_version, &description).await.gql().map(Succescriterium)
    }

    /// Adds an item to the meerjarenplanning of a doel.
    async fn add_planning_item(&self, ctx: &Context<'_>, input: AddPlanningItemInput) -> Result<PlanningItem> {
        let id = parse_id(&input.doel_id, "doel")?;
        let item = NewPlanningItem {
            school_year: school_year(&input.school_year)?,
            text: input.text,
            status: input.status.map(Into::into),
            note: input.note,
        };
        engine(ctx).add_planning_item(id, item).await.gql().map(PlanningItem)
    }

    /// Changes a planning item: mark it GESTART, AFGEROND or VERVALLEN, rewrite it, note why.
    async fn update_planning_item(&self, ctx: &Context<'_>, input: UpdatePlanningItemInput) -> Result<PlanningItem> {
        let id = parse_id(&input.planning_item_id, "planning item")?;
        let edit = PlanningItemEdit {
            school_year: input.school_year.as_deref().map(school_year).transpose()?,
            text: input.text,
            status: input.status.map(Into::into),
            note: input.note.map(Some),
        };
        engine(ctx).update_planning_item(id, input.expected_version, edit).await.gql().map(PlanningItem)
    }
}
