//! One delivery stream: the log files of one account in one region.
//!
//! Time is cut into 5-minute slots. Each slot's events are delivered in a
//! file keyed 1 to 4.5 min after the slot ends, so every record is older
//! than its file's key time. A few records are delivered one to three slots
//! late, a very few hours late with `addendum.reason = DELIVERY_DELAY`, and a
//! configured fraction is delivered a second time, byte for byte, in a later
//! file. Records in a file are sorted with a jitter of up to ±20 s, so they are
//! slightly out of order. About one slot in eight, and every slot with more
//! than `MAX_RECORDS_PER_FILE` records, is split across several files.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::actors::{self, Actor, Kind};
use super::identities::Account;
use super::random::{self, pick, pick_weighted};
use super::record::{Call, Envelope, Epoch, write_record};
use super::services::{self, Ctx};

pub(crate) const SLOT_SECONDS: i64 = 300;
pub(crate) const SLOTS_PER_HOUR: u64 = 12;
const MAX_RECORDS_PER_FILE: usize = 5_000;
/// Chance of a Terraform run in a slot, per expected record of that slot. A
/// run averages about 660 records, so runs add about 8 % to the volume of
/// office hours and less at night.
const BIG_RUN_CHANCE_PER_RECORD: f64 = 0.00012;

/// A serialised record waiting for its delivery slot.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub time: Epoch,
    pub bytes: Arc<Vec<u8>>,
    /// A re-delivery of a record already delivered in an earlier file.
    pub duplicate: bool,
    /// Part of the attack scenario (first delivery only).
    pub scenario: bool,
}

/// A scenario record, rendered, for the stream that delivers it.
#[derive(Debug, Clone)]
pub(crate) struct Injected {
    pub time: Epoch,
    pub bytes: Vec<u8>,
}

/// One log file before compression.
#[derive(Debug)]
pub(crate) struct RawFile {
    pub stream: usize,
    pub slot: u64,
    pub part: usize,
    pub delivered: Epoch,
    pub unique: String,
    pub body: Vec<u8>,
    pub records: u64,
    pub duplicates: u64,
    pub scenario_records: u64,
    pub oldest: Epoch,
    pub newest: Epoch,
}

/// The callers of one account in one region and the records they produce.
pub(crate) struct Producer {
    pub account: Arc<Account>,
    pub region: String,
    /// This stream receives the account's global (us-east-1) events.
    pub global: bool,
    pub actors: Vec<Actor>,
}

/// A record before delivery: its time and the parts needed to render it.
struct Draft {
    time: Epoch,
    envelope: Envelope,
    call: Call,
    request_id: String,
}

impl Producer {
    pub(crate) fn new(
        rng: &mut StdRng,
        account: Arc<Account>,
        region: &str,
        global: bool,
    ) -> Producer {
        let actors = actors::cast(rng, &account, global);
        Producer {
            account,
            region: region.to_string(),
            global,
            actors,
        }
    }

    /// Produces about `count` records with times in `[start, start + 300)`,
    /// as bursts of calls by randomly chosen callers. A full Terraform run (a
    /// burst of hundreds of reads on top of `count`) starts with probability
    /// `big_run_chance`.
    fn produce_slot(
        &mut self,
        rng: &mut StdRng,
        start: Epoch,
        count: u64,
        big_run_chance: f64,
        out: &mut Vec<Draft>,
    ) {
        let office = actors::office_factor(start);
        let weights: Vec<(usize, u32)> = self
            .actors
            .iter()
            .enumerate()
            .map(|(index, actor)| {
                let factor = if actor.office_hours { office } else { 1.0 };
                (index, ((actor.weight * factor * 1000.0) as u32).max(1))
            })
            .collect();
        let mut produced = 0u64;
        while produced < count {
            let index = *pick_weighted(rng, &weights);
            let (low, high) = self.actors[index].burst;
            let size = u64::from(rng.random_range(low..=high))
                .min(count - produced)
                .max(1);
            let burst_start = start + rng.random_range(0..SLOT_SECONDS);
            self.burst(rng, index, burst_start, start + SLOT_SECONDS - 1, size, out);
            produced += size;
        }
        let terraform = self
            .actors
            .iter()
            .position(|actor| actor.kind == Kind::Terraform);
        if let Some(index) = terraform
            && big_run_chance > 0.0
            && rng.random_bool((big_run_chance * office).min(1.0))
        {
            let (low, high) = self.actors[index].burst;
            let size = u64::from(rng.random_range(low..=high));
            let burst_start = start + rng.random_range(0..60);
            self.burst(rng, index, burst_start, start + SLOT_SECONDS - 1, size, out);
        }
    }

    /// Produces `size` calls by actor `index`, starting at `time` and packed
    /// a second or two apart, never later than `last`.
    fn burst(
        &mut self,
        rng: &mut StdRng,
        index: usize,
        mut time: Epoch,
        last: Epoch,
        size: u64,
        out: &mut Vec<Draft>,
    ) {
        let account = Arc::clone(&self.account);
        let renewals = self.actors[index].renew(rng, &account, &self.region, time);
        for renewal in renewals {
            if renewal.call.global && !self.global {
                continue;
            }
            let envelope = self.envelope(
                rng,
                &renewal.call,
                renewal.identity,
                time,
                renewal.source_ip,
                renewal.user_agent,
                renewal.from_console,
                None,
            );
            let request_id = request_id_for(rng, &renewal.call);
            out.push(Draft {
                time,
                envelope,
                call: renewal.call,
                request_id,
            });
            time = (time + 1).min(last);
        }

        let actor = &self.actors[index];
        let Some(credential) = actor.credential.clone() else {
            return;
        };
        let throttle_rate = if matches!(actor.kind, Kind::Terraform | Kind::Vendor) {
            0.003
        } else {
            0.0
        };
        // One burst is one job or session, so it keeps one address. It keeps
        // one client too, except in the console, whose calls come from the
        // browser, from console back ends (`AWS Internal`) and from S3Console.
        let source_ip = pick(rng, &actor.source_ips).clone();
        let burst_agent = pick(rng, &actor.user_agents).clone();
        let console = matches!(actor.kind, Kind::SsoConsole | Kind::Root);
        let endpoint = actor.vpc_endpoint.clone();
        for _ in 0..size {
            let call = {
                let actor = &self.actors[index];
                let mut chosen = None;
                for _ in 0..4 {
                    let op = *pick_weighted(rng, actor.ops);
                    let mut ctx = Ctx {
                        rng,
                        account: &account,
                        region: &self.region,
                        time,
                    };
                    let call = op(&mut ctx);
                    if !call.global || self.global {
                        chosen = Some(call);
                        break;
                    }
                }
                let Some(mut call) = chosen else { continue };
                if call.error.is_none() {
                    if rng.random_bool(actor.deny_rate) {
                        call = services::deny(call, &credential.arn);
                    } else if rng.random_bool(throttle_rate) {
                        call = services::throttle(call);
                    }
                }
                call
            };
            let user_agent = if console {
                pick(rng, &self.actors[index].user_agents).clone()
            } else {
                burst_agent.clone()
            };
            let envelope = self.envelope(
                rng,
                &call,
                credential.identity.clone(),
                time,
                source_ip.clone(),
                user_agent,
                credential.from_console,
                endpoint.clone(),
            );
            let request_id = request_id_for(rng, &call);
            out.push(Draft {
                time,
                envelope,
                call,
                request_id,
            });
            if rng.random_bool(0.6) {
                time = (time + 1).min(last);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn envelope(
        &self,
        rng: &mut StdRng,
        call: &Call,
        identity: String,
        time: Epoch,
        source_ip: String,
        user_agent: String,
        from_console: bool,
        vpc_endpoint: Option<String>,
    ) -> Envelope {
        let region = if call.global {
            "us-east-1".to_string()
        } else {
            self.region.clone()
        };
        let from_service = source_ip.ends_with(".amazonaws.com") || source_ip == "AWS Internal";
        let tls_host = if from_service || user_agent == "AWS Internal" {
            None
        } else {
            Some(host_header(call, &region))
        };
        let uses_endpoint = matches!(
            call.source,
            "ssm.amazonaws.com"
                | "ec2messages.amazonaws.com"
                | "kms.amazonaws.com"
                | "secretsmanager.amazonaws.com"
                | "logs.amazonaws.com"
        );
        let escape_user_agent = !user_agent.is_ascii() && rng.random_bool(0.5);
        Envelope {
            event_version: event_version(call.source),
            identity,
            time,
            region,
            source_ip,
            user_agent,
            escape_user_agent,
            event_id: random::uuid(rng),
            recipient_account: self.account.id.clone(),
            vpc_endpoint_id: vpc_endpoint.filter(|_| uses_endpoint),
            tls_host,
            tls13: rng.random_bool(0.7),
            from_console,
            delivery_delay: false,
        }
    }
}

fn request_id_for(rng: &mut StdRng, call: &Call) -> String {
    if let Some(id) = &call.request_id {
        return id.clone();
    }
    // Sign-in events and service events carry no requestID.
    if matches!(call.event_type, "AwsConsoleSignIn" | "AwsServiceEvent") {
        return String::new();
    }
    random::uuid(rng)
}

pub(crate) fn host_header(call: &Call, region: &str) -> String {
    let service = call.source.trim_end_matches(".amazonaws.com");
    match service {
        "iam" | "route53" | "health" | "ce" => format!("{service}.amazonaws.com"),
        "signin" => "signin.aws.amazon.com".to_string(),
        "sts" if call.global => "sts.amazonaws.com".to_string(),
        "monitoring" => format!("monitoring.{region}.amazonaws.com"),
        _ => format!("{service}.{region}.amazonaws.com"),
    }
}

/// The event version each service writes. Services move to new versions at
/// different times, so one trail contains several.
pub(crate) fn event_version(source: &str) -> &'static str {
    match source {
        "iam.amazonaws.com" | "sts.amazonaws.com" | "signin.amazonaws.com" => "1.08",
        "s3.amazonaws.com" | "ec2.amazonaws.com" => "1.10",
        "kms.amazonaws.com" | "lambda.amazonaws.com" | "sso.amazonaws.com" => "1.11",
        _ => "1.09",
    }
}

/// Renders a draft record.
fn render(draft: &Draft) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1600);
    write_record(&mut bytes, &draft.envelope, &draft.call, &draft.request_id);
    bytes
}

/// A stream's state across hours: its callers, seeded generator and the
/// records waiting for a later file.
pub(crate) struct Stream {
    pub index: usize,
    pub account_index: usize,
    pub producer: Producer,
    /// Share of the corpus's events, relative to the other streams.
    pub weight: f64,
    rng: StdRng,
    start: Epoch,
    duplicate_fraction: f64,
    pending: BTreeMap<u64, Vec<Pending>>,
    injected: Vec<Injected>,
    next_injected: usize,
}

impl Stream {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        index: usize,
        account_index: usize,
        seed: u64,
        account: Arc<Account>,
        region: &str,
        global: bool,
        weight: f64,
        start: Epoch,
        duplicate_fraction: f64,
        mut injected: Vec<Injected>,
    ) -> Stream {
        let mut rng = StdRng::seed_from_u64(seed);
        let producer = Producer::new(&mut rng, account, region, global);
        injected.sort_by_key(|record| record.time);
        Stream {
            index,
            account_index,
            producer,
            weight,
            rng,
            start,
            duplicate_fraction,
            pending: BTreeMap::new(),
            injected,
            next_injected: 0,
        }
    }

    /// Generates the files delivered for the 12 slots of `hour`. `rate` is
    /// the mean record count of a slot for a stream of weight 1 at full
    /// office-hours activity.
    pub(crate) fn generate_hour(&mut self, hour: u64, rate: f64) -> Vec<RawFile> {
        let mut files = Vec::new();
        for slot in hour * SLOTS_PER_HOUR..(hour + 1) * SLOTS_PER_HOUR {
            let slot_start = self.start + slot as i64 * SLOT_SECONDS;
            let activity = 0.5 + 0.5 * actors::office_factor(slot_start);
            let mean = rate * self.weight * activity;
            let noise = random::lognormal(&mut self.rng, 0.3);
            let count = random::poisson(&mut self.rng, mean * noise);
            // Terraform runs scale with the stream's volume, so that they stay
            // a similar share of small and large corpora.
            let big_run_chance = (mean * BIG_RUN_CHANCE_PER_RECORD).min(0.05);

            let mut drafts = Vec::new();
            self.producer.produce_slot(
                &mut self.rng,
                slot_start,
                count,
                big_run_chance,
                &mut drafts,
            );
            for draft in drafts {
                self.schedule(slot, draft);
            }
            while let Some(record) = self.injected.get(self.next_injected) {
                if record.time >= slot_start + SLOT_SECONDS {
                    break;
                }
                let bytes = Arc::new(record.bytes.clone());
                let time = record.time;
                self.next_injected += 1;
                self.deliver(slot, time, bytes, true);
            }

            let records = self.pending.remove(&slot).unwrap_or_default();
            if !records.is_empty() && records.iter().all(|record| record.duplicate) {
                // A file of re-deliveries alone could repeat an earlier file
                // byte for byte, so they wait for a file with new records.
                self.pending.entry(slot + 1).or_default().extend(records);
                continue;
            }
            files.extend(self.pack(slot, slot_start, records));
        }
        files
    }

    /// Chooses the delivery slot of a new record, and of its duplicate if any.
    fn schedule(&mut self, slot: u64, mut draft: Draft) {
        let roll: f64 = self.rng.random();
        let delay = if roll < 0.0005 {
            draft.envelope.delivery_delay = true;
            self.rng.random_range(12..=72)
        } else if roll < 0.015 {
            self.rng.random_range(1..=3)
        } else {
            0
        };
        let bytes = Arc::new(render(&draft));
        self.deliver(slot + delay, draft.time, bytes, false);
    }

    fn deliver(&mut self, slot: u64, time: Epoch, bytes: Arc<Vec<u8>>, scenario: bool) {
        if self.duplicate_fraction > 0.0 && self.rng.random_bool(self.duplicate_fraction) {
            let later = slot + self.rng.random_range(1..=24);
            self.pending.entry(later).or_default().push(Pending {
                time,
                bytes: Arc::clone(&bytes),
                duplicate: true,
                scenario: false,
            });
        }
        self.pending.entry(slot).or_default().push(Pending {
            time,
            bytes,
            duplicate: false,
            scenario,
        });
    }

    /// Orders a slot's records loosely by time and cuts them into files.
    fn pack(&mut self, slot: u64, slot_start: Epoch, mut records: Vec<Pending>) -> Vec<RawFile> {
        if records.is_empty() {
            return Vec::new();
        }
        let mut keyed: Vec<(i64, Pending)> = records
            .drain(..)
            .map(|record| (record.time + self.rng.random_range(-20..=20), record))
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        let mut records: Vec<Pending> = keyed.into_iter().map(|(_, record)| record).collect();

        let mut parts = records.len().div_ceil(MAX_RECORDS_PER_FILE);
        if records.len() > 1 && self.rng.random_bool(0.12) {
            parts += 1;
        }
        let per_part = records.len().div_ceil(parts);
        let mut chunks: Vec<Vec<Pending>> = Vec::with_capacity(parts);
        while !records.is_empty() {
            let rest = records.split_off(per_part.min(records.len()));
            let chunk = std::mem::replace(&mut records, rest);
            // A part of re-deliveries alone could repeat an earlier file byte
            // for byte, so it joins the part before it (or the one after).
            let only_duplicates = chunk.iter().all(|record| record.duplicate);
            match chunks.last_mut() {
                Some(previous) if only_duplicates => previous.extend(chunk),
                Some(previous) if previous.iter().all(|record| record.duplicate) => {
                    previous.extend(chunk)
                }
                _ => chunks.push(chunk),
            }
        }
        let mut files = Vec::with_capacity(chunks.len());
        for (part, chunk) in chunks.into_iter().enumerate() {
            let delivered = slot_start + SLOT_SECONDS + self.rng.random_range(60..270);
            files.push(self.file(slot, part, delivered, chunk));
        }
        files
    }

    fn file(&mut self, slot: u64, part: usize, delivered: Epoch, records: Vec<Pending>) -> RawFile {
        let size: usize = records.iter().map(|record| record.bytes.len() + 1).sum();
        let mut body = Vec::with_capacity(size + 16);
        body.extend_from_slice(b"{\"Records\":[");
        for (index, record) in records.iter().enumerate() {
            if index > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&record.bytes);
        }
        body.extend_from_slice(b"]}");
        RawFile {
            stream: self.index,
            slot,
            part,
            delivered: delivered - delivered.rem_euclid(60),
            unique: random::alnum(&mut self.rng, 16),
            body,
            records: records.len() as u64,
            duplicates: records.iter().filter(|record| record.duplicate).count() as u64,
            scenario_records: records.iter().filter(|record| record.scenario).count() as u64,
            oldest: records
                .iter()
                .map(|record| record.time)
                .min()
                .unwrap_or(delivered),
            newest: records
                .iter()
                .map(|record| record.time)
                .max()
                .unwrap_or(delivered),
        }
    }
}

/// Builds one `{"Records":[...]}` body of `count` records in memory, from
/// the first account and region of the caller's setup, starting at `start`.
pub(crate) fn records_body(
    rng: &mut StdRng,
    account: Arc<Account>,
    region: &str,
    start: Epoch,
    count: usize,
) -> Vec<u8> {
    let mut producer = Producer::new(rng, account, region, true);
    let mut drafts = Vec::with_capacity(count);
    let mut slot_start = start;
    while drafts.len() < count {
        let missing = (count - drafts.len()) as u64;
        producer.produce_slot(rng, slot_start, missing, 0.0, &mut drafts);
        slot_start += SLOT_SECONDS;
    }
    drafts.truncate(count);
    let mut body = Vec::with_capacity(count * 1600 + 16);
    body.extend_from_slice(b"{\"Records\":[");
    for (index, draft) in drafts.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        write_record(&mut body, &draft.envelope, &draft.call, &draft.request_id);
    }
    body.extend_from_slice(b"]}");
    body
}
