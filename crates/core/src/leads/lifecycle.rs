//! Where a lead stands on the way to qualified pipeline, and which changes are allowed.
//!
//! The funnel runs Lead (`new`, then `working` once attempts start) → MQL → SQL → SAL, where
//! sales accepts it and it becomes an opportunity. Off the funnel a lead is parked in nurture
//! (still worked, or paused) at the stage it reached, or disqualified. Every change names a
//! disposition from a controlled list, so the reasons can be counted.

use serde::Serialize;

use crate::crm::LeadStatus;

text_enum! {
    /// A lead parked off the funnel: still worked with trigger-based messages, or paused.
    pub enum Nurture {
        Worked = "worked",
        Paused = "paused",
    }
}

text_enum! {
    /// Why a lead changed stage; the controlled list every change picks from.
    pub enum Disposition {
        /// Sales started attempts to reach the lead.
        Attempting = "attempting",
        /// Matched the marketing-qualified criteria.
        MarketingQualified = "marketing_qualified",
        /// The need is confirmed; sales takes it on.
        QualifiedNeedsConfirmed = "qualified_needs_confirmed",
        /// Interested but no reason to act now.
        NotReady = "not_ready",
        NoTimeline = "no_timeline",
        /// Every attempt within the response window went unanswered.
        AttemptedNoReply = "attempted_no_reply",
        CompetitorSelected = "competitor_selected",
        NotAFitWrongRole = "not_a_fit_wrong_role",
        /// Outside the ideal customer profile: size, industry, delivery model.
        NotAFitProfile = "not_a_fit_profile",
        Duplicate = "duplicate",
        /// Passed to another team or partner that serves it better.
        Referred = "referred",
        /// Came back from nurture or disqualification with new interest.
        ReEngaged = "re_engaged",
    }
}

impl Disposition {
    /// How the disposition reads in reports.
    pub fn label(self) -> &'static str {
        match self {
            Disposition::Attempting => "Attempting contact",
            Disposition::MarketingQualified => "Marketing qualified",
            Disposition::QualifiedNeedsConfirmed => "Qualified – needs confirmed",
            Disposition::NotReady => "Interested – not ready",
            Disposition::NoTimeline => "No timeline",
            Disposition::AttemptedNoReply => "Attempted – no reply",
            Disposition::CompetitorSelected => "Competitor already selected",
            Disposition::NotAFitWrongRole => "Not a fit – wrong role",
            Disposition::NotAFitProfile => "Not a fit – outside the profile",
            Disposition::Duplicate => "Duplicate",
            Disposition::Referred => "Referred elsewhere",
            Disposition::ReEngaged => "Re-engaged",
        }
    }

    /// The kind of change this disposition explains.
    fn explains(self) -> &'static [Move] {
        use Disposition::*;
        match self {
            Attempting => &[Move::StartWork],
            MarketingQualified => &[Move::Advance(LeadStatus::Mql)],
            QualifiedNeedsConfirmed => &[
                Move::Advance(LeadStatus::Sql),
                Move::Advance(LeadStatus::Sal),
            ],
            NotReady | NoTimeline | AttemptedNoReply => &[Move::Park],
            CompetitorSelected => &[Move::Park, Move::Disqualify],
            NotAFitWrongRole | NotAFitProfile | Duplicate | Referred => &[Move::Disqualify],
            ReEngaged => &[Move::Return],
        }
    }

    fn fitting(wanted: Move) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|d| d.explains().contains(&wanted))
            .map(|d| d.as_str())
            .collect()
    }
}

/// Where a lead stands: its status and, while parked, its nurture track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Placement {
    pub status: LeadStatus,
    pub nurture: Option<Nurture>,
}

impl Placement {
    pub const NEW: Placement = Placement {
        status: LeadStatus::New,
        nurture: None,
    };

    pub fn at(status: LeadStatus) -> Self {
        Self {
            status,
            nurture: None,
        }
    }

    pub fn parked(status: LeadStatus, track: Nurture) -> Self {
        Self {
            status,
            nurture: Some(track),
        }
    }
}

impl LeadStatus {
    /// How far along the funnel: Lead 0, MQL 1, SQL 2, SAL 3; disqualified leads are off it.
    pub fn funnel_step(self) -> Option<u8> {
        match self {
            LeadStatus::New | LeadStatus::Working => Some(0),
            LeadStatus::Mql => Some(1),
            LeadStatus::Sql => Some(2),
            LeadStatus::Sal => Some(3),
            LeadStatus::Disqualified => None,
        }
    }

    /// Still being qualified: not yet accepted by sales, not disqualified.
    pub fn is_open(self) -> bool {
        !matches!(self, LeadStatus::Sal | LeadStatus::Disqualified)
    }
}

/// What kind of change a pair of placements is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// `new` → `working`.
    StartWork,
    /// Forward along the funnel to the given status.
    Advance(LeadStatus),
    /// Into nurture, or from one nurture track to the other, at the same status.
    Park,
    Disqualify,
    /// Out of nurture or disqualification, back onto the funnel.
    Return,
}

/// A change of stage a lead may not make, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("the lead is already {0}")]
    Unchanged(String),
    #[error("the lead was accepted by sales and converted; work its opportunity instead")]
    Converted,
    #[error("a lead becomes sal only by converting it into an opportunity")]
    SalOnlyByConversion,
    #[error("only open leads (new, working, mql, sql) can be in nurture")]
    NurtureWhenClosed,
    #[error("a lead enters nurture at the stage it reached; change the stage after it re-engages")]
    ParkAndMove,
    #[error("a lead does not move back from {from} to {to}; park it in nurture or disqualify it")]
    Backward { from: LeadStatus, to: LeadStatus },
    #[error("`{given}` does not explain this change; use one of {accepted}")]
    WrongDisposition {
        given: Disposition,
        accepted: String,
    },
}

/// A change of stage the rules allow, with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StageChange {
    pub from: Placement,
    pub to: Placement,
    pub disposition: Disposition,
}

/// Checks a change of stage other than conversion.
pub fn change(
    from: Placement,
    to: Placement,
    disposition: Disposition,
) -> Result<StageChange, LifecycleError> {
    if to.status == LeadStatus::Sal {
        return Err(LifecycleError::SalOnlyByConversion);
    }
    checked(from, to, disposition)
}

/// Checks the change a conversion makes: to SAL, with the need confirmed.
pub fn convert(from: Placement) -> Result<StageChange, LifecycleError> {
    checked(
        from,
        Placement::at(LeadStatus::Sal),
        Disposition::QualifiedNeedsConfirmed,
    )
}

fn checked(
    from: Placement,
    to: Placement,
    disposition: Disposition,
) -> Result<StageChange, LifecycleError> {
    let wanted = classify(from, to)?;
    if !disposition.explains().contains(&wanted) {
        return Err(LifecycleError::WrongDisposition {
            given: disposition,
            accepted: Disposition::fitting(wanted).join(", "),
        });
    }
    Ok(StageChange {
        from,
        to,
        disposition,
    })
}

fn classify(from: Placement, to: Placement) -> Result<Move, LifecycleError> {
    if from == to {
        return Err(LifecycleError::Unchanged(describe(to)));
    }
    if from.status == LeadStatus::Sal {
        return Err(LifecycleError::Converted);
    }
    if to.nurture.is_some() && !to.status.is_open() {
        return Err(LifecycleError::NurtureWhenClosed);
    }
    if to.status == LeadStatus::Disqualified {
        return Ok(Move::Disqualify);
    }
    if from.status == LeadStatus::Disqualified {
        return if to.nurture.is_some() {
            Ok(Move::Park)
        } else {
            Ok(Move::Return)
        };
    }
    match (from.nurture, to.nurture) {
        (_, Some(_)) if from.status != to.status => Err(LifecycleError::ParkAndMove),
        (_, Some(_)) => Ok(Move::Park),
        (Some(_), None) => Ok(Move::Return),
        (None, None) => {
            let (before, after) = (from.status.funnel_step(), to.status.funnel_step());
            if after < before {
                Err(LifecycleError::Backward {
                    from: from.status,
                    to: to.status,
                })
            } else if after == before {
                // Same step, different status: new → working (working → new is backward).
                if from.status == LeadStatus::New {
                    Ok(Move::StartWork)
                } else {
                    Err(LifecycleError::Backward {
                        from: from.status,
                        to: to.status,
                    })
                }
            } else {
                Ok(Move::Advance(to.status))
            }
        }
    }
}

fn describe(placement: Placement) -> String {
    match placement.nurture {
        Some(track) => format!("{} in nurture ({track})", placement.status),
        None => placement.status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadStatus::*;

    #[test]
    fn leads_move_forward_with_the_disposition_that_explains_the_step() {
        let to_mql = change(
            Placement::NEW,
            Placement::at(Mql),
            Disposition::MarketingQualified,
        );
        assert_eq!(to_mql.map(|c| c.to), Ok(Placement::at(Mql)));
        // Skipping MQL is allowed: a demo request can go straight to sales.
        assert!(
            change(
                Placement::NEW,
                Placement::at(Sql),
                Disposition::QualifiedNeedsConfirmed
            )
            .is_ok()
        );
        assert!(
            change(
                Placement::NEW,
                Placement::at(Working),
                Disposition::Attempting
            )
            .is_ok()
        );
        assert_eq!(
            change(Placement::NEW, Placement::at(Mql), Disposition::NoTimeline),
            Err(LifecycleError::WrongDisposition {
                given: Disposition::NoTimeline,
                accepted: "marketing_qualified".into(),
            })
        );
    }

    #[test]
    fn sal_is_reached_only_by_conversion_and_is_final() {
        assert_eq!(
            change(
                Placement::at(Sql),
                Placement::at(Sal),
                Disposition::QualifiedNeedsConfirmed
            ),
            Err(LifecycleError::SalOnlyByConversion)
        );
        assert_eq!(
            convert(Placement::at(Sql)).map(|c| c.disposition),
            Ok(Disposition::QualifiedNeedsConfirmed)
        );
        assert_eq!(
            convert(Placement::at(Sal)),
            Err(LifecycleError::Unchanged("sal".into()))
        );
        assert_eq!(
            change(
                Placement::at(Sal),
                Placement::at(Disqualified),
                Disposition::Duplicate
            ),
            Err(LifecycleError::Converted)
        );
        // A parked lead re-engages before it converts.
        assert!(convert(Placement::parked(Mql, Nurture::Worked)).is_err());
    }

    #[test]
    fn nurture_parks_a_lead_at_its_stage_and_re_engagement_brings_it_back() {
        let parked = Placement::parked(Mql, Nurture::Paused);
        assert!(change(Placement::at(Mql), parked, Disposition::NoTimeline).is_ok());
        assert_eq!(
            change(
                Placement::at(Mql),
                Placement::parked(Sql, Nurture::Paused),
                Disposition::NoTimeline
            ),
            Err(LifecycleError::ParkAndMove)
        );
        assert!(
            change(
                parked,
                Placement::parked(Mql, Nurture::Worked),
                Disposition::NotReady
            )
            .is_ok()
        );
        assert!(change(parked, Placement::at(Sql), Disposition::ReEngaged).is_ok());
        assert!(
            change(
                parked,
                Placement::at(Sql),
                Disposition::QualifiedNeedsConfirmed
            )
            .is_err()
        );
        assert_eq!(
            change(
                Placement::at(Disqualified),
                Placement::parked(Disqualified, Nurture::Worked),
                Disposition::NotReady
            ),
            Err(LifecycleError::NurtureWhenClosed)
        );
    }

    #[test]
    fn leads_do_not_move_back_along_the_funnel() {
        assert_eq!(
            change(
                Placement::at(Sql),
                Placement::at(Mql),
                Disposition::MarketingQualified
            ),
            Err(LifecycleError::Backward { from: Sql, to: Mql })
        );
        assert!(
            change(
                Placement::at(Working),
                Placement::NEW,
                Disposition::ReEngaged
            )
            .is_err()
        );
        let message = LifecycleError::Backward { from: Sql, to: Mql }.to_string();
        assert!(message.contains("nurture or disqualify"), "{message}");
    }

    #[test]
    fn disqualifying_takes_a_reason_and_a_disqualified_lead_can_return() {
        assert!(
            change(
                Placement::at(Working),
                Placement::at(Disqualified),
                Disposition::NotAFitWrongRole
            )
            .is_ok()
        );
        assert!(
            change(
                Placement::at(Sql),
                Placement::at(Disqualified),
                Disposition::CompetitorSelected
            )
            .is_ok()
        );
        let refused = change(
            Placement::at(Sql),
            Placement::at(Disqualified),
            Disposition::NotReady,
        );
        assert_eq!(
            refused,
            Err(LifecycleError::WrongDisposition {
                given: Disposition::NotReady,
                accepted: "competitor_selected, not_a_fit_wrong_role, not_a_fit_profile, duplicate, referred".into(),
            })
        );
        assert!(
            change(
                Placement::at(Disqualified),
                Placement::at(Mql),
                Disposition::ReEngaged
            )
            .is_ok()
        );
    }

    #[test]
    fn every_disposition_explains_some_change_and_has_a_label() {
        for disposition in Disposition::ALL {
            assert!(!disposition.explains().is_empty());
            assert!(!disposition.label().is_empty());
        }
    }
}
