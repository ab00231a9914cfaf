//! Operations calls: CloudWatch (`monitoring.amazonaws.com`), CloudWatch Logs,
//! CloudFormation, CloudTrail, Config, Health, Cost Explorer, Route 53,
//! SNS, SQS and the tagging API.

use rand::Rng;
use serde_json::{Value, json};

use super::Ctx;
use crate::corpus::random::{self, pick};
use crate::corpus::record::{Call, format_event_time, format_iam_time, to_datetime};

pub(crate) fn monitoring_read(ctx: &mut Ctx) -> Call {
    match ctx.rng.random_range(0..5) {
        0 | 1 => {
            let queries: Vec<Value> = (0..ctx.rng.random_range(1..20))
                .map(|index| {
                    let instance = pick(ctx.rng, &ctx.account.instances).clone();
                    json!({
                        "id": format!("m{index}"),
                        "metricStat": {
                            "metric": { "namespace": "AWS/EC2", "metricName": "CPUUtilization", "dimensions": [{ "name": "InstanceId", "value": instance }] },
                            "period": 300, "stat": "Average"
                        },
                        "returnData": true
                    })
                })
                .collect();
            let end = format_event_time(ctx.time - ctx.time % 300);
            let start = format_event_time(ctx.time - ctx.time % 300 - 3600);
            Call::new("monitoring.amazonaws.com", "GetMetricData", true)
                .request(json!({ "metricDataQueries": queries, "startTime": start, "endTime": end }))
        }
        2 => Call::new("monitoring.amazonaws.com", "DescribeAlarms", true)
            .request(json!({ "maxRecords": 100, "alarmTypes": ["CompositeAlarm", "MetricAlarm"] })),
        3 => Call::new("monitoring.amazonaws.com", "ListMetrics", true)
            .request(json!({ "namespace": pick(ctx.rng, &["AWS/EC2", "AWS/Lambda", "AWS/RDS", "AWS/ApplicationELB"]).to_string() })),
        _ => Call::new("monitoring.amazonaws.com", "DescribeAlarmHistory", true)
            .request(json!({ "historyItemType": "StateUpdate", "maxRecords": 50 })),
    }
}

pub(crate) fn monitoring_put_alarm(ctx: &mut Ctx) -> Call {
    let function = pick(ctx.rng, &ctx.account.functions).clone();
    Call::new("monitoring.amazonaws.com", "PutMetricAlarm", false).request(json!({
        "alarmName": format!("{function}-errors"),
        "actionsEnabled": true,
        "alarmActions": [format!("arn:aws:sns:{}:{}:oncall", ctx.region, ctx.account.id)],
        "metricName": "Errors", "namespace": "AWS/Lambda", "statistic": "Sum",
        "dimensions": [{ "name": "FunctionName", "value": function }],
        "period": 60, "evaluationPeriods": 5, "threshold": 1.0,
        "comparisonOperator": "GreaterThanOrEqualToThreshold", "treatMissingData": "notBreaching"
    }))
}

pub(crate) fn logs_call(ctx: &mut Ctx) -> Call {
    let function = pick(ctx.rng, &ctx.account.functions).clone();
    let group = format!("/aws/lambda/{function}");
    match ctx.rng.random_range(0..4) {
        0 => Call::new("logs.amazonaws.com", "DescribeLogGroups", true)
            .request(json!({ "logGroupNamePrefix": "/aws/lambda/", "limit": 50 })),
        1 => Call::new("logs.amazonaws.com", "DescribeLogStreams", true)
            .request(json!({ "logGroupName": group, "orderBy": "LastEventTime", "descending": true, "limit": 10 })),
        2 => Call::new("logs.amazonaws.com", "FilterLogEvents", true).request(json!({
            "logGroupName": group, "filterPattern": "ERROR",
            "startTime": (ctx.time - 3600) * 1000, "interleaved": true
        })),
        _ => Call::new("logs.amazonaws.com", "StartQuery", true).request(json!({
            "logGroupName": group,
            "queryString": "fields @timestamp, @message | filter @message like /timeout/ | sort @timestamp desc | limit 100",
            "startTime": ctx.time - 86400, "endTime": ctx.time
        })).response(json!({ "queryId": random::uuid(ctx.rng) })),
    }
}

pub(crate) fn cloudformation_read(ctx: &mut Ctx) -> Call {
    let stack = pick(ctx.rng, &ctx.account.stacks).clone();
    match ctx.rng.random_range(0..4) {
        0 => Call::new("cloudformation.amazonaws.com", "DescribeStacks", true).request(json!({ "stackName": stack })),
        1 => Call::new("cloudformation.amazonaws.com", "DescribeStackEvents", true).request(json!({ "stackName": stack })),
        2 => Call::new("cloudformation.amazonaws.com", "ListStacks", true)
            .request(json!({ "stackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"] })),
        _ => Call::new("cloudformation.amazonaws.com", "GetTemplateSummary", true).request(json!({ "stackName": stack })),
    }
}

pub(crate) fn cloudtrail_read(ctx: &mut Ctx) -> Call {
    match ctx.rng.random_range(0..4) {
        0 => Call::new("cloudtrail.amazonaws.com", "DescribeTrails", true).request(json!({ "includeShadowTrails": true })),
        1 => Call::new("cloudtrail.amazonaws.com", "GetTrailStatus", true)
            .request(json!({ "name": format!("arn:aws:cloudtrail:us-east-1:{}:trail/org-audit_trail", ctx.account.id) })),
        2 => Call::new("cloudtrail.amazonaws.com", "LookupEvents", true).request(json!({
            "lookupAttributes": [{ "attributeKey": "EventName", "attributeValue": "ConsoleLogin" }],
            "maxResults": 50
        })),
        _ => Call::new("cloudtrail.amazonaws.com", "GetEventSelectors", true)
            .request(json!({ "trailName": "org-audit_trail" })),
    }
}

pub(crate) fn route53_read(ctx: &mut Ctx) -> Call {
    let zone = format!("Z{}", random::upper_alnum(ctx.rng, 13));
    let call = if ctx.rng.random_bool(0.5) {
        Call::new("route53.amazonaws.com", "ListHostedZones", true).request(json!({}))
    } else {
        Call::new("route53.amazonaws.com", "ListResourceRecordSets", true)
            .request(json!({ "hostedZoneId": zone, "maxItems": "300" }))
    };
    call.global()
}

pub(crate) fn sns_sqs_read(ctx: &mut Ctx) -> Call {
    let queue = format!(
        "https://sqs.{}.amazonaws.com/{}/{}-jobs",
        ctx.region, ctx.account.id, ctx.account.environment
    );
    match ctx.rng.random_range(0..4) {
        0 => Call::new("sns.amazonaws.com", "ListTopics", true).request(json!({})),
        1 => Call::new("sns.amazonaws.com", "GetTopicAttributes", true).request(
            json!({ "topicArn": format!("arn:aws:sns:{}:{}:oncall", ctx.region, ctx.account.id) }),
        ),
        2 => Call::new("sqs.amazonaws.com", "ListQueues", true)
            .request(json!({ "maxResults": 1000 })),
        _ => Call::new("sqs.amazonaws.com", "GetQueueAttributes", true)
            .request(json!({ "queueUrl": queue, "attributeNames": ["All"] })),
    }
}

pub(crate) fn config_read(ctx: &mut Ctx) -> Call {
    match ctx.rng.random_range(0..3) {
        0 => Call::new("config.amazonaws.com", "DescribeConfigRules", true).request(json!({})),
        1 => Call::new(
            "config.amazonaws.com",
            "DescribeConfigurationRecorderStatus",
            true,
        )
        .request(json!({})),
        _ => {
            let instance = pick(ctx.rng, &ctx.account.instances).clone();
            Call::new("config.amazonaws.com", "PutEvaluations", false).request(json!({
                "evaluations": [{
                    "complianceResourceType": "AWS::EC2::Instance", "complianceResourceId": instance,
                    "complianceType": "COMPLIANT", "orderingTimestamp": format_iam_time(ctx.time)
                }],
                "resultToken": random::base64(ctx.rng, 96), "testMode": false
            }))
        }
    }
}

pub(crate) fn health_read(ctx: &mut Ctx) -> Call {
    let _ = ctx;
    Call::new("health.amazonaws.com", "DescribeEventAggregates", true)
        .request(json!({ "aggregateField": "eventTypeCategory", "filter": { "eventStatusCodes": ["open", "upcoming"] } }))
        .global()
}

pub(crate) fn cost_explorer(ctx: &mut Ctx) -> Call {
    let end = to_datetime(ctx.time).format("%Y-%m-01").to_string();
    Call::new("ce.amazonaws.com", "GetCostAndUsage", true)
        .request(json!({
            "timePeriod": { "start": "2024-01-01", "end": end },
            "granularity": "MONTHLY", "metrics": ["UnblendedCost"],
            "groupBy": [{ "type": "DIMENSION", "key": "SERVICE" }]
        }))
        .global()
}

pub(crate) fn tagging_read(ctx: &mut Ctx) -> Call {
    let _ = ctx;
    Call::new("tagging.amazonaws.com", "GetResources", true)
        .request(json!({ "resourcesPerPage": 100, "resourceTypeFilters": ["ec2:instance", "rds:db", "lambda:function"] }))
}
