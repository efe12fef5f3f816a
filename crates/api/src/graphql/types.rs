//! GraphQL types of the contract, mapped from domain types. Descriptions here are what frontend
//! developers read in the playground and in `schema.graphql`.

use async_graphql::{Enum, ID, Object, SimpleObject};
use carematch_domain as domain;

/// What kind of care a provider gives.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::CareType")]
pub enum CareType {
    /// Pelvic-floor (postpartum) physical therapy: leaking, pelvic pain, diastasis recti, return to exercise.
    PelvicFloorPhysicalTherapy,
    /// Massage after birth: tension, swelling, stress, sleep.
    PostnatalMassage,
    /// Lactation consultants (IBCLC, CLC): feeding difficulties.
    LactationConsulting,
    /// Postpartum doulas.
    Doula,
    /// Therapists and psychiatric providers trained in perinatal mental health.
    PerinatalMentalHealth,
    /// Peer support groups, in person or online.
    SupportGroup,
    /// OB/GYNs and midwives.
    ObstetricCare,
}

/// What the mother is experiencing. Each maps to recommended care types.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::Symptom")]
pub enum Symptom {
    UrineLeakage,
    PelvicPain,
    PelvicHeaviness,
    DiastasisRecti,
    CoreWeakness,
    ScarPain,
    BackPain,
    HipPain,
    NeckShoulderTension,
    Swelling,
    PoorSleep,
    Stress,
    Anxiety,
    LowMood,
    BreastfeedingDifficulty,
    TroubleWithDailyActivities,
    ReturnToExercise,
    Isolation,
    /// Lasting tiredness: her OB/GYN or midwife checks for medical causes (anaemia, thyroid).
    Fatigue,
}

/// Urgent postpartum warning signs (AWHONN POST-BIRTH). Any of them puts urgent guidance first.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::WarningSign")]
pub enum WarningSign {
    /// Soaking a pad in an hour, or large clots.
    HeavyBleeding,
    /// 100.4 °F / 38 °C or higher.
    Fever,
    ChestPain,
    TroubleBreathing,
    Seizure,
    /// Thoughts of hurting herself or her baby.
    ThoughtsOfHarm,
    /// A headache that does not get better, or comes with vision changes.
    SevereHeadache,
    /// A red, swollen or warm leg.
    LegPainOrSwelling,
    IncisionNotHealing,
    /// CDC Hear Her: get medical care right away.
    DizzinessOrFainting,
    /// CDC Hear Her: get medical care right away.
    SevereBellyPain,
    /// CDC Hear Her: get medical care right away.
    RacingHeart,
    /// Sudden swelling of the face or hands (CDC Hear Her): get medical care right away.
    FaceOrHandSwelling,
    /// CDC Hear Her: get medical care right away.
    VisionChanges,
    /// CDC Hear Her: get medical care right away.
    OverwhelmingTiredness,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::BirthType")]
pub enum BirthType {
    Vaginal,
    Cesarean,
}

/// How care is given.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::CareMode")]
pub enum CareMode {
    InPerson,
    Telehealth,
    /// The provider comes to her home, within its service radius.
    HomeVisit,
    /// An online support group, open to mothers anywhere.
    VirtualGroup,
}

/// Whether a certification is specific to pregnancy and postpartum care.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::CertificationScope")]
pub enum CertificationScope {
    Perinatal,
    General,
}

/// What the mother did with a match.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::MatchOutcome")]
pub enum MatchOutcome {
    Viewed,
    Contacted,
    Booked,
    Dismissed,
}

/// How urgent the warning signs are.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::UrgencyLevel")]
pub enum UrgencyLevel {
    /// Call her healthcare provider now.
    CallProvider,
    /// Get medical care right away (CDC Hear Her warning signs).
    MedicalCareNow,
    /// Call emergency services (911 in the US) now.
    Emergency,
}

/// A care provider: a person, a practice or a group.
pub struct Provider(pub std::sync::Arc<domain::Provider>);

/// Something a mother can book: an interface entity owned by the bookings subgraph
/// (`interface CareListing @key(fields: "id")`, one implementation per kind of listing). carematch
/// adds the provider behind every listing, whatever its kind, as an `@interfaceObject`: the
/// router asks carematch for these fields with `__typename: "CareListing"` and the listing's id,
/// which is its provider's id.
pub struct CareListing {
    pub id: ID,
    pub provider: Provider,
}

#[Object(interface_object)]
impl CareListing {
    // No description: bookings owns `CareListing` and describes it; a second text here would
    // be an INCONSISTENT_DESCRIPTION composition hint.
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The provider this listing books, with everything carematch knows about them. Nullable
    /// so that a listing whose provider is unknown here loses this field only: non-null, the
    /// router would null the listing and every list it is in.
    async fn provider(&self) -> Option<&Provider> {
        Some(&self.provider)
    }
}

#[Object]
impl Provider {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// US National Provider Identifier (10 digits), when the provider has one.
    async fn npi(&self) -> Option<&str> {
        self.0.npi.as_ref().map(domain::Npi::as_str)
    }
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    async fn care_types(&self) -> Vec<CareType> {
        self.0
            .care_types
            .iter()
            .map(|care_type| (*care_type).into())
            .collect()
    }
    async fn certifications(&self) -> Vec<Certification> {
        self.0
            .certifications
            .iter()
            .map(|certification| Certification {
                name: certification.name.clone(),
                issuer: certification.issuer.clone(),
                scope: certification.scope.into(),
                verified: certification.verified,
                care_type: domain::credentials::belongs_to(certification, &self.0.care_types)
                    .map(|(care_type, _)| care_type)
                    .filter(|care_type| self.0.care_types.contains(care_type))
                    .map(Into::into),
            })
            .collect()
    }
    /// Conditions the provider treats.
    async fn treats(&self) -> Vec<Symptom> {
        self.0
            .treats
            .iter()
            .map(|symptom| (*symptom).into())
            .collect()
    }
    async fn locations(&self) -> Vec<Location> {
        self.0.locations.iter().map(Location::from).collect()
    }
    async fn modes(&self) -> Vec<CareMode> {
        self.0.modes.iter().map(|mode| (*mode).into()).collect()
    }
    async fn languages(&self) -> Vec<&str> {
        self.0
            .languages
            .iter()
            .map(domain::Language::as_str)
            .collect()
    }
    async fn accepting_new_clients(&self) -> bool {
        self.0.accepting_new_clients
    }
    async fn insurance(&self) -> Vec<InsurancePlan> {
        self.0
            .insurance
            .iter()
            .map(|plan| InsurancePlan {
                payer: plan.payer.clone(),
                plan: plan.plan.clone(),
                care_types: self
                    .0
                    .care_types
                    .iter()
                    .copied()
                    .filter(|care_type| {
                        domain::payment::contract_covers(plan, *care_type, &self.0.care_types)
                    })
                    .map(Into::into)
                    .collect(),
            })
            .collect()
    }
    /// Accepts payment from a flexible spending or health savings account.
    async fn accepts_fsa_hsa(&self) -> bool {
        self.0.accepts_fsa_hsa
    }
    /// Gives a superbill she can submit to her insurer for out-of-network reimbursement.
    async fn provides_superbill(&self) -> bool {
        self.0.provides_superbill
    }
    /// Sees clients only with a referral (usually from an OB/GYN).
    async fn requires_referral(&self) -> bool {
        self.0.requires_referral
    }
    async fn self_pay_rate_usd(&self) -> Option<u32> {
        self.0.self_pay_rate_usd
    }
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// States the provider may give telehealth in: those of its locations plus any it lists.
    async fn licensed_regions(&self) -> Vec<String> {
        self.0
            .licensed_regions()
            .iter()
            .map(|region| region.as_str().to_owned())
            .collect()
    }
    /// How far a home-visit provider travels, in kilometres; null when it makes no home visits.
    async fn home_visit_radius_km(&self) -> Option<f64> {
        self.0
            .offers(domain::CareMode::HomeVisit)
            .then(|| self.0.home_visit_radius_km())
    }
}

#[derive(SimpleObject)]
pub struct Certification {
    pub name: String,
    pub issuer: Option<String>,
    pub scope: CertificationScope,
    /// Checked against the issuer's registry, as opposed to self-reported.
    pub verified: bool,
    /// The one care type of this provider the credential counts for (a doula's certificate
    /// earns nothing for the same provider's massage); null when it counts for none of them.
    pub care_type: Option<CareType>,
}

/// A place on the map, with its address when known.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    pub city: Option<String>,
    /// Two-letter US state code.
    pub region: Option<String>,
    pub postal_code: Option<String>,
}

impl From<&domain::ProviderLocation> for Location {
    fn from(location: &domain::ProviderLocation) -> Self {
        let draft = location.to_draft();
        Location {
            latitude: draft.latitude,
            longitude: draft.longitude,
            address: draft.address,
            city: draft.city,
            region: draft.region,
            postal_code: draft.postal_code,
        }
    }
}

#[derive(SimpleObject)]
pub struct InsurancePlan {
    pub payer: String,
    pub plan: Option<String>,
    /// The care types of this provider the contract covers: those its record names, else the
    /// clinical care it gives, and massage, doula or group care only when that is all it gives.
    pub care_types: Vec<CareType>,
}

/// What triage concludes: urgent guidance first, then recommended care and cautions.
#[derive(SimpleObject)]
pub struct CarePlan {
    /// Urgent guidance, present whenever a warning sign was given. Show it before anything else.
    pub urgent: Option<UrgentGuidance>,
    /// Recommended care types, best priority first.
    pub recommendations: Vec<CareRecommendation>,
    /// Care types that were asked for or suggested but are not safe or useful yet, and why.
    pub cautions: Vec<Caution>,
    /// Set when there is nothing to recommend (no symptoms and no care types), saying why.
    pub notice: Option<String>,
}

#[derive(SimpleObject)]
pub struct UrgentGuidance {
    pub message: String,
    pub warning_signs: Vec<WarningSign>,
    pub level: UrgencyLevel,
}

#[derive(SimpleObject)]
pub struct CareRecommendation {
    pub care_type: CareType,
    /// 1 treats the problem, 2 supports it, 3 is a useful addition.
    pub priority: i32,
    pub reasons: Vec<String>,
}

#[derive(SimpleObject)]
pub struct Caution {
    pub care_type: CareType,
    pub reason: String,
    /// True when the care type is not safe yet (it is then left out of recommendations).
    pub blocks_recommendation: bool,
    /// True when a warning sign holds the care type back: no matches and no care-team member
    /// for it, even when asked for, until her provider has seen her.
    pub held_back: bool,
}

impl From<domain::CarePlan> for CarePlan {
    fn from(plan: domain::CarePlan) -> Self {
        CarePlan {
            urgent: plan.urgent.map(|urgent| UrgentGuidance {
                message: urgent.message,
                warning_signs: urgent.warning_signs.into_iter().map(Into::into).collect(),
                level: urgent.level.into(),
            }),
            recommendations: plan
                .recommendations
                .into_iter()
                .map(|recommendation| CareRecommendation {
                    care_type: recommendation.care_type.into(),
                    priority: i32::from(recommendation.priority),
                    reasons: recommendation.reasons,
                })
                .collect(),
            cautions: plan
                .cautions
                .into_iter()
                .map(|caution| Caution {
                    care_type: caution.care_type.into(),
                    reason: caution.reason,
                    blocks_recommendation: caution.kind.blocks(),
                    held_back: caution.kind == domain::CautionKind::WarningSign,
                })
                .collect(),
            notice: plan.notice,
        }
    }
}
