//! The impact.com emulator over HTTP: auth, paging, the Actions date rules,
//! the rate limit and its headers, error bodies, faults through the kit, and
//! the writes a migration makes.

use cutover_emulator_impact::{FaultConfig, ImpactConfig, ImpactState, RunningEmulator, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

type Emulator = RunningEmulator<ImpactState>;

async fn emulator(configure: impl FnOnce(&mut ImpactConfig)) -> Emulator {
    let mut config = ImpactConfig::new(7, 120);
    configure(&mut config);
    start(config).await.expect("the emulator starts")
}

struct Api<'a> {
    emulator: &'a Emulator,
    client: reqwest::Client,
    token: String,
}

impl<'a> Api<'a> {
    fn new(emulator: &'a Emulator) -> Self {
        Api { emulator, client: reqwest::Client::new(), token: emulator.api_key.clone() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/Advertisers/{}/{path}", self.emulator.base_url, self.emulator.state().account_sid)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(path))
            .basic_auth(&self.emulator.state().account_sid, Some(&self.token))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("an answer");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .basic_auth(&self.emulator.state().account_sid, Some(&self.token))
            .form(form)
            .send()
            .await
            .expect("an answer");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn seeded(emulator: &Emulator) -> Value {
    reqwest::get(format!("{}/__emulator/impact/seeded", emulator.base_url))
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn credentials_are_the_account_sid_and_its_token() {
    let emulator = emulator(|_| {}).await;
    let url = Api::new(&emulator).url("Campaigns");
    let client = reqwest::Client::new();
    let none = client.get(&url).send().await.expect("an answer");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let body: Value = none.json().await.expect("json");
    assert_eq!(body["Status"], "ERROR");
    assert!(body["Message"].as_str().is_some_and(|message| !message.is_empty()));
    let wrong_user =
        client.get(&url).basic_auth("IRsomeoneelse", Some(&emulator.api_key)).send().await.expect("an answer");
    assert_eq!(wrong_user.status(), StatusCode::UNAUTHORIZED);
    let other_account = client
        .get(format!("{}/Advertisers/IRother/Campaigns", emulator.base_url))
        .basic_auth(&emulator.state().account_sid, Some(&emulator.api_key))
        .send()
        .await
        .expect("an answer");
    assert_eq!(other_account.status(), StatusCode::FORBIDDEN);
    let mut read_only = Api::new(&emulator);
    read_only.token = emulator.state().read_only_token.clone();
    assert_eq!(read_only.get("Campaigns.json").await.0, StatusCode::OK);
    let (status, body) = read_only.send(reqwest::Method::PUT, "MediaPartners/1", &[("MPValue1", "x")]).await;
    assert_eq!((status, body["Status"].as_str()), (StatusCode::FORBIDDEN, Some("ERROR")));
}

#[tokio::test]
async fn collections_page_through_next_page_links_that_keep_their_filters() {
    let emulator = emulator(|_| {}).await;
    let api = Api::new(&emulator);
    let truth = seeded(&emulator).await;
    let mut path = "MediaPartners.json?PageSize=7&State=ACTIVE".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for key in ["@page", "@numpages", "@pagesize", "@total", "@start", "@end", "@uri", "@nextpageuri"] {
            assert!(page[key].is_string(), "{key} is a string");
        }
        seen.extend(page["MediaPartners"].as_array().cloned().unwrap_or_default());
        let next = page["@nextpageuri"].as_str().unwrap_or("").to_owned();
        if next.is_empty() {
            assert_eq!(page["@total"].as_str().and_then(|total| total.parse().ok()), Some(seen.len()));
            break;
        }
        assert!(next.contains("State=ACTIVE") && next.contains("PageSize=7"), "{next}");
        let prefix = format!("/Advertisers/{}/", emulator.state().account_sid);
        path = next.strip_prefix(&prefix).unwrap_or(&next).to_owned();
    }
    let active = truth["partners_by_state"]["ACTIVE"].as_u64().unwrap_or(0) as usize;
    assert_eq!(seen.len(), active);
    assert_eq!(pages, active.div_ceil(7));
    assert!(seen.iter().all(|partner| partner["State"] == "ACTIVE"));
    let (status, body) = api.get("MediaPartners?PageSize=zero").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["Field"], "PageSize");
}

#[tokio::test]
async fn actions_follow_the_documented_date_rules() {
    let emulator = emulator(|_| {}).await;
    let api = Api::new(&emulator);
    let (status, body) = api.get("Actions?StartDate=2026-09-01T00:00:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["Field"], "CampaignId");
    let (status, body) = api.get("Actions?CampaignId=11842&StartDate=2026-09-01T00:00:00Z").await;
    assert_eq!((status, body["Errors"][0]["Field"].as_str()), (StatusCode::BAD_REQUEST, Some("EndDate")));
    let (status, _) =
        api.get("Actions?CampaignId=11842&StartDate=2026-07-01T00:00:00Z&EndDate=2026-09-01T00:00:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "62 days is more than 45");
    let (status, _) =
        api.get("Actions?CampaignId=11842&StartDate=2019-01-01T00:00:00Z&EndDate=2019-02-01T00:00:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "more than 3 years back");
    // No dates: the last 7 days by last update, which the seeded data (dated
    // before the kit's anchor) is not in.
    let (status, body) = api.get("Actions?CampaignId=11842").await;
    assert_eq!((status, body["@total"].as_str()), (StatusCode::OK, Some("0")));
    let (status, body) = api
        .get("Actions?CampaignId=11842&ActionDateStart=2026-08-17T00:00:00Z&ActionDateEnd=2026-09-30T23:59:59Z")
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions = body["Actions"].as_array().cloned().unwrap_or_default();
    assert!(!actions.is_empty());
    assert_eq!(body["@pagesize"], "20000", "Actions page at 20,000 by default");
    let created: Vec<&str> = actions.iter().filter_map(|action| action["CreationDate"].as_str()).collect();
    let mut newest_first = created.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, newest_first, "most recently created first");
    for action in &actions {
        assert_eq!(action["CampaignId"], "11842");
        let currency = action["Currency"].as_str().unwrap_or("");
        let amount = action["Amount"].as_str().unwrap_or("");
        assert_eq!(amount.contains('.'), currency != "JPY", "{currency} {amount}");
    }
    let (status, body) = api
        .get("Actions?CampaignId=24017&ActionDateStart=2026-08-17T00:00:00Z&ActionDateEnd=2026-09-30T23:59:59Z")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["Actions"].as_array().is_some_and(|actions| {
        actions
            .iter()
            .all(|action| action["Currency"] == "JPY" && !action["Amount"].as_str().unwrap_or(".").contains('.'))
    }));
}

#[tokio::test]
async fn the_hourly_limit_answers_its_headers_then_429() {
    let emulator = emulator(|config| config.requests_per_hour = 2).await;
    let api = Api::new(&emulator);
    let response = reqwest::Client::new()
        .get(api.url("Campaigns"))
        .basic_auth(&emulator.state().account_sid, Some(&emulator.api_key))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.headers()["x-ratelimit-limit"], "2");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "1");
    assert!(response.headers().contains_key("x-ratelimit-reset"));
    assert_eq!(api.get("Campaigns").await.0, StatusCode::OK);
    let (status, body) = api.get("Campaigns").await;
    assert_eq!((status, body["Message"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("Too Many Requests")));
}

#[tokio::test]
async fn kit_faults_answer_in_the_vendors_error_shape() {
    let emulator = emulator(|_| {}).await;
    let api = Api::new(&emulator);
    emulator.set_faults(FaultConfig { burst_429: 1, ..FaultConfig::default() });
    let (status, body) = api.get("Campaigns").await;
    assert_eq!((status, body["Status"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("ERROR")));
    assert_eq!(api.get("Campaigns").await.0, StatusCode::OK);
    emulator.set_faults(FaultConfig { fail_page_once: Some(1), ..FaultConfig::default() });
    let (status, body) = api.get("MediaPartners?PageSize=5&Page=2").await;
    assert_eq!((status, body["Status"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("ERROR")));
    assert_eq!(api.get("MediaPartners?PageSize=5&Page=2").await.0, StatusCode::OK);
    emulator.set_faults(FaultConfig { paging_loop: true, ..FaultConfig::default() });
    let (_, page) = api.get("MediaPartners?PageSize=500").await;
    assert!(page["@nextpageuri"].as_str().is_some_and(|next| next.ends_with("Page=2")), "a one-page collection loops");
}

#[tokio::test]
async fn partners_promo_codes_and_conversions_are_written() {
    let emulator = emulator(|_| {}).await;
    let api = Api::new(&emulator);
    let mut partner = vec![
        ("AccountName", "Zoë's Trail Notes"),
        ("Website", "https://zoe.example"),
        ("AddressLine1", "1 Rue de la Paix"),
        ("City", "Paris"),
        ("PostalCode", "75002"),
        ("Country", "FRANCE"),
        ("PhoneCountry", "FR"),
        ("PhoneNumber", "155550000"),
        ("PrimaryPromotionalMethod", "CONTENT"),
        ("Username", "zoe-trails"),
        ("FirstName", "Zoë"),
        ("LastName", "Martin"),
        ("Password", "correct horse battery staple"),
        ("EmailAddress", "zoe@example.org"),
        ("TemplateTermsId", "11843"),
        ("Currency", "EUR"),
        ("MPValue1", "oldnet:42"),
    ];
    let (status, created) = api.send(reqwest::Method::POST, "MediaPartners", &partner).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["Id"].as_str().unwrap_or_default().to_owned();
    let (_, read) = api.get(&format!("MediaPartners/{id}")).await;
    assert_eq!(
        (read["MPValue1"].as_str(), read["State"].as_str(), read["PartnerType"].as_str()),
        (Some("oldnet:42"), Some("ACTIVE"), Some("DIRECT"))
    );
    let (status, body) = api.send(reqwest::Method::POST, "MediaPartners", &partner).await;
    assert_eq!((status, body["Errors"][0]["Field"].as_str()), (StatusCode::BAD_REQUEST, Some("Username")));
    partner.retain(|(name, _)| *name != "Currency");
    let (status, body) = api.send(reqwest::Method::POST, "MediaPartners", &partner).await;
    assert_eq!(
        (status, body["Errors"].clone()),
        (StatusCode::BAD_REQUEST, json!([{"Field": "Currency", "Message": "Required"}]))
    );

    let code = [
        ("AssignedPartnerId", id.as_str()),
        ("CampaignId", "11843"),
        ("CreditPolicy", "ALWAYS"),
        ("Code", "ZOE10"),
        ("Type", "LI"),
    ];
    let (status, made) = api.send(reqwest::Method::POST, "PromoCodes", &code).await;
    assert_eq!((status, made["Code"].as_str()), (StatusCode::OK, Some("ZOE10")));
    assert_eq!(api.send(reqwest::Method::POST, "PromoCodes", &code).await.0, StatusCode::BAD_REQUEST);
    let (_, listed) = api.get("PromoCodes?Code=ZOE10&CampaignId=11843").await;
    assert_eq!(listed["@total"], "1");
    let (_, expired) =
        api.send(reqwest::Method::DELETE, &format!("PromoCodes/{}", made["Id"].as_str().unwrap_or("")), &[]).await;
    assert_eq!(expired["State"], "INACTIVE");

    let conversion = [
        ("CampaignId", "24017"),
        ("ActionTrackerId", "5120"),
        ("EventDate", "2026-09-20T10:00:00Z"),
        ("OrderId", "JP-1"),
        ("MediaPartnerId", id.as_str()),
        ("CurrencyCode", "JPY"),
        ("Amount", "15800"),
    ];
    let (status, queued) = api.send(reqwest::Method::POST, "Conversions", &conversion).await;
    assert_eq!((status, queued["Status"].as_str()), (StatusCode::OK, Some("QUEUED")));
    let (_, actions) = api
        .get("Actions?CampaignId=24017&ActionDateStart=2026-09-19T00:00:00Z&ActionDateEnd=2026-09-21T00:00:00Z")
        .await;
    let ours: Vec<&Value> = actions["Actions"]
        .as_array()
        .map(|all| all.iter().filter(|action| action["Oid"] == "JP-1").collect())
        .unwrap_or_default();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        (ours[0]["Amount"].as_str(), ours[0]["State"].as_str(), ours[0]["MediaPartnerId"].as_str()),
        (Some("15800"), Some("PENDING"), Some(id.as_str()))
    );
    let (_, again) = api.send(reqwest::Method::POST, "Conversions", &conversion).await;
    let batch = again["QueuedUri"].as_str().and_then(|uri| uri.rsplit('/').next()).unwrap_or("").to_owned();
    let (_, submission) = api.get(&format!("APISubmissions/{batch}")).await;
    assert_eq!(submission["Status"], "FAILED", "a duplicate OrderId is not a second action");
    let (status, body) = api.send(reqwest::Method::POST, "Conversions", &[("CampaignId", "24017")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|error| error["field"] == "OrderId" && error["level"] == "ERROR"))
    );

    let (_, link) =
        api.send(reqwest::Method::POST, &format!("Programs/11842/TrackingLinks?MediaPartnerId={id}"), &[]).await;
    assert_eq!(link["TrackingURL"].as_str(), Some(format!("https://acme-outdoor.sjv.io/c/{id}/506700/11842").as_str()));
}

#[tokio::test]
async fn clicks_are_exported_by_day_ten_jobs_a_day() {
    let emulator = emulator(|config| config.click_exports_per_day = 2).await;
    let api = Api::new(&emulator);
    let truth = seeded(&emulator).await;
    let day = truth["click_days"][1].as_str().unwrap_or("").to_owned();
    let (status, queued) = api.get(&format!("Programs/11842/ClickExport?Date={day}&ResultFormat=JSON")).await;
    assert_eq!((status, queued["Status"].as_str()), (StatusCode::OK, Some("QUEUED")));
    let prefix = format!("/Advertisers/{}/", emulator.state().account_sid);
    let job = queued["QueuedUri"].as_str().and_then(|uri| uri.strip_prefix(&prefix)).unwrap_or("").to_owned();
    assert_eq!(api.get(&job).await.1["Status"], "COMPLETED");
    let (_, download) = api.get(&format!("{job}/Download")).await;
    let clicks = download["Clicks"].as_array().cloned().unwrap_or_default();
    assert!(!clicks.is_empty());
    assert!(
        clicks.iter().all(|click| click["CampaignId"] == "11842"
            && click["EventDate"].as_str().is_some_and(|at| at.starts_with(&day)))
    );
    let id = clicks[0]["Id"].as_str().unwrap_or("");
    assert_eq!(api.get(&format!("Campaigns/11842/Clicks/{id}")).await.1["Id"], id);
    assert_eq!(api.get("Programs/11842/ClickExport?Date=2024-04-01").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.get(&format!("Programs/11842/ClickExport?Date={day}")).await.0, StatusCode::OK);
    assert_eq!(api.get(&format!("Programs/11842/ClickExport?Date={day}")).await.0, StatusCode::TOO_MANY_REQUESTS);
}
