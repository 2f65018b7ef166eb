//! sea-orm entities, one per table. Business rules live in the services, not here.

pub mod bestuur;
pub mod kindcentrum;
pub mod kindcentrum_bestuur;
pub mod onderdeel;
pub mod locatie;
pub mod lrk_registration;
pub mod groep;
pub mod professional;
pub mod professional_role;
pub mod professional_fte;
pub mod professional_kindcentrum;
pub mod team;
pub mod team_member;
pub mod koersplan;
pub mod ambitie;
pub mod doel;
pub mod succescriterium;
pub mod planning_item;
pub mod indicator;
pub mod doel_indicator;
pub mod measurement;
