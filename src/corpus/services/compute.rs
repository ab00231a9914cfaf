//! Compute calls: EC2, Lambda, ECS, ECR, Elastic Load Balancing and Auto Scaling.
//!
//! EC2 wraps lists in `{"items": [...]}` and Lambda event names carry an
//! API-version suffix (`GetFunction20150331v2`).

use rand::Rng;
use serde_json::{Value, json};

use super::Ctx;
use crate::corpus::random::{self, pick};
use crate::corpus::record::{Call, format_event_time, format_sts_time};

fn item_list(values: &[Value]) -> Value {
    json!({ "items": values })
}

fn ec2(ctx: &mut Ctx, name: &'static str, request: Value) -> Call {
    let _ = ctx;
    Call::new("ec2.amazonaws.com", name, true).request(request)
}

fn instance(ctx: &mut Ctx) -> String {
    pick(ctx.rng, &ctx.account.instances).clone()
}

fn filter(name: &str, values: &[String]) -> Value {
    let values: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
    json!({ "name": name, "valueSet": item_list(&values) })
}

pub(crate) fn ec2_describe_instances(ctx: &mut Ctx) -> Call {
    let request = match ctx.rng.random_range(0..3) {
        0 => json!({ "instancesSet": {}, "filterSet": {} }),
        1 => {
            let id = instance(ctx);
            json!({ "instancesSet": item_list(&[json!({ "instanceId": id })]), "filterSet": {} })
        }
        _ => {
            let state = vec!["running".to_string(), "pending".to_string()];
            json!({
                "instancesSet": {},
                "filterSet": item_list(&[filter("instance-state-name", &state)]),
                "maxResults": 1000
            })
        }
    };
    ec2(ctx, "DescribeInstances", request)
}

pub(crate) fn ec2_describe_security_groups(ctx: &mut Ctx) -> Call {
    let group = pick(ctx.rng, &ctx.account.security_groups).clone();
    let request = if ctx.rng.random_bool(0.5) {
        json!({ "securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {} })
    } else {
        json!({ "securityGroupSet": {}, "securityGroupIdSet": item_list(&[json!({ "groupId": group })]), "filterSet": {} })
    };
    ec2(ctx, "DescribeSecurityGroups", request)
}

pub(crate) fn ec2_describe_vpcs(ctx: &mut Ctx) -> Call {
    let vpc = pick(ctx.rng, &ctx.account.vpcs).clone();
    ec2(
        ctx,
        "DescribeVpcs",
        json!({ "vpcSet": item_list(&[json!({ "vpcId": vpc })]), "filterSet": {} }),
    )
}

pub(crate) fn ec2_describe_subnets(ctx: &mut Ctx) -> Call {
    let vpc = pick(ctx.rng, &ctx.account.vpcs).clone();
    ec2(
        ctx,
        "DescribeSubnets",
        json!({ "subnetSet": {}, "filterSet": item_list(&[filter("vpc-id", &[vpc])]) }),
    )
}

pub(crate) fn ec2_describe_route_tables(ctx: &mut Ctx) -> Call {
    let vpc = pick(ctx.rng, &ctx.account.vpcs).clone();
    ec2(
        ctx,
        "DescribeRouteTables",
        json!({ "routeTableIdSet": {}, "filterSet": item_list(&[filter("vpc-id", &[vpc])]) }),
    )
}

pub(crate) fn ec2_describe_network_interfaces(ctx: &mut Ctx) -> Call {
    let subnet = pick(ctx.rng, &ctx.account.subnets).clone();
    ec2(
        ctx,
        "DescribeNetworkInterfaces",
        json!({ "networkInterfaceIdSet": {}, "filterSet": item_list(&[filter("subnet-id", &[subnet])]) }),
    )
}

pub(crate) fn ec2_describe_volumes(ctx: &mut Ctx) -> Call {
    let id = instance(ctx);
    ec2(
        ctx,
        "DescribeVolumes",
        json!({ "volumeSet": {}, "filterSet": item_list(&[filter("attachment.instance-id", &[id])]) }),
    )
}

pub(crate) fn ec2_describe_snapshots(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeSnapshots",
        json!({ "snapshotSet": {}, "ownersSet": item_list(&[json!({ "owner": "self" })]), "restorableBySet": {}, "filterSet": {}, "maxResults": 1000 }),
    )
}

pub(crate) fn ec2_describe_images(ctx: &mut Ctx) -> Call {
    let ami = pick(ctx.rng, &ctx.account.amis).clone();
    ec2(
        ctx,
        "DescribeImages",
        json!({ "executableBySet": {}, "imagesSet": item_list(&[json!({ "imageId": ami })]), "ownersSet": {}, "includeDeprecated": false, "filterSet": {} }),
    )
}

pub(crate) fn ec2_describe_instance_status(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeInstanceStatus",
        json!({ "instancesSet": {}, "filterSet": {}, "includeAllInstances": true }),
    )
}

pub(crate) fn ec2_describe_tags(ctx: &mut Ctx) -> Call {
    let id = instance(ctx);
    ec2(
        ctx,
        "DescribeTags",
        json!({ "filterSet": item_list(&[filter("resource-id", &[id])]) }),
    )
}

pub(crate) fn ec2_describe_addresses(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeAddresses",
        json!({ "publicIpsSet": {}, "allocationIdsSet": {}, "filterSet": {} }),
    )
}

pub(crate) fn ec2_describe_availability_zones(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeAvailabilityZones",
        json!({ "availabilityZoneSet": {}, "availabilityZoneIdSet": {}, "allAvailabilityZones": false }),
    )
}

pub(crate) fn ec2_describe_account_attributes(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeAccountAttributes",
        json!({ "accountAttributeNameSet": item_list(&[json!({ "attributeName": "supported-platforms" })]), "filterSet": {} }),
    )
}

pub(crate) fn ec2_describe_regions(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeRegions",
        json!({ "regionSet": {}, "allRegions": false }),
    )
}

pub(crate) fn ec2_describe_launch_templates(ctx: &mut Ctx) -> Call {
    ec2(
        ctx,
        "DescribeLaunchTemplates",
        json!({ "DescribeLaunchTemplatesRequest": { "MaxResults": 200 } }),
    )
}

pub(crate) fn ec2_create_tags(ctx: &mut Ctx) -> Call {
    let id = instance(ctx);
    let owner = pick(ctx.rng, &["platform", "data", "payments", "search"]).to_string();
    Call::new("ec2.amazonaws.com", "CreateTags", false)
        .request(json!({
            "resourcesSet": item_list(&[json!({ "resourceId": id })]),
            "tagSet": item_list(&[json!({ "key": "Owner", "value": owner }), json!({ "key": "Backup", "value": "daily" })])
        }))
        .response(json!({ "requestId": random::uuid(ctx.rng), "_return": true }))
}

pub(crate) fn ec2_stop_start_instances(ctx: &mut Ctx) -> Call {
    let id = instance(ctx);
    let (name, from, to) = if ctx.rng.random_bool(0.5) {
        ("StopInstances", (16, "running"), (64, "stopping"))
    } else {
        ("StartInstances", (80, "stopped"), (0, "pending"))
    };
    Call::new("ec2.amazonaws.com", name, false)
        .request(
            json!({ "instancesSet": item_list(&[json!({ "instanceId": id })]), "force": false }),
        )
        .response(json!({
            "requestId": random::uuid(ctx.rng),
            "instancesSet": item_list(&[json!({
                "instanceId": id,
                "currentState": { "code": to.0, "name": to.1 },
                "previousState": { "code": from.0, "name": from.1 }
            })])
        }))
}

pub(crate) fn ec2_authorize_security_group_ingress(ctx: &mut Ctx) -> Call {
    let group = pick(ctx.rng, &ctx.account.security_groups).clone();
    let port = *pick(ctx.rng, &[443u16, 5432, 6379, 8080]);
    Call::new("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false)
        .request(json!({
            "groupId": group,
            "ipPermissions": item_list(&[json!({
                "ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {},
                "ipRanges": item_list(&[json!({ "cidrIp": "10.20.0.0/16", "description": "internal" })]),
                "ipv6Ranges": {}, "prefixListIds": {}
            })])
        }))
        .response(json!({
            "requestId": random::uuid(ctx.rng),
            "_return": true,
            "securityGroupRuleSet": item_list(&[json!({
                "groupOwnerId": ctx.account.id,
                "groupId": group,
                "securityGroupRuleId": format!("sgr-{}", random::hex(ctx.rng, 17)),
                "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                "cidrIpv4": "10.20.0.0/16", "description": "internal"
            })])
        }))
}

/// The settings shared by the instances of one `RunInstances` call.
struct Launch {
    ami: String,
    subnet: String,
    group: String,
    vpc: String,
    instance_type: String,
    zone: String,
    time_ms: i64,
}

/// Builds one item of the `RunInstances` response's `instancesSet`.
fn launched_instance(ctx: &mut Ctx, launch: &Launch, index: usize) -> Value {
    let id = format!("i-{}", random::hex(ctx.rng, 17));
    let eni = format!("eni-{}", random::hex(ctx.rng, 17));
    let private_ip = format!(
        "10.20.{}.{}",
        ctx.rng.random_range(0..64),
        ctx.rng.random_range(4..250)
    );
    let mac = format!(
        "0e:{}:{}:{}:{}:{}",
        random::hex(ctx.rng, 2),
        random::hex(ctx.rng, 2),
        random::hex(ctx.rng, 2),
        random::hex(ctx.rng, 2),
        random::hex(ctx.rng, 2)
    );
    let interface = json!({
        "networkInterfaceId": eni, "subnetId": launch.subnet, "vpcId": launch.vpc,
        "ownerId": ctx.account.id, "status": "in-use", "macAddress": mac,
        "privateIpAddress": private_ip, "sourceDestCheck": true, "interfaceType": "interface",
        "groupSet": item_list(&[json!({ "groupId": launch.group, "groupName": "app" })]),
        "attachment": { "attachmentId": format!("eni-attach-{}", random::hex(ctx.rng, 17)), "deviceIndex": 0, "networkCardIndex": 0, "status": "attaching", "attachTime": launch.time_ms, "deleteOnTermination": true },
        "privateIpAddressesSet": item_list(&[json!({ "privateIpAddress": private_ip, "primary": true })]),
        "ipv6AddressesSet": {}, "tagSet": {}
    });
    let mut instance = json!({
        "instanceId": id, "imageId": launch.ami,
        "currentInstanceBootMode": "uefi",
        "instanceState": { "code": 0, "name": "pending" },
        "privateDnsName": format!("ip-{}.{}.compute.internal", private_ip.replace('.', "-"), ctx.region),
        "amiLaunchIndex": index, "productCodes": {}, "instanceType": launch.instance_type,
        "launchTime": launch.time_ms, "placement": { "availabilityZone": launch.zone, "tenancy": "default" },
        "monitoring": { "state": "disabled" }, "subnetId": launch.subnet, "vpcId": launch.vpc,
        "privateIpAddress": private_ip,
        "stateReason": { "code": "pending", "message": "pending" },
        "architecture": "x86_64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda",
        "blockDeviceMapping": {}, "virtualizationType": "hvm",
        "clientToken": random::uuid(ctx.rng),
        "tagSet": item_list(&[json!({ "key": "Name", "value": format!("{}-worker", ctx.account.environment) }), json!({ "key": "launched-by", "value": "terraform" })]),
        "groupSet": item_list(&[json!({ "groupId": launch.group, "groupName": "app" })]),
        "sourceDestCheck": true, "hypervisor": "xen",
        "networkInterfaceSet": item_list(&[interface])
    });
    let options = json!({
        "ebsOptimized": false, "enaSupport": true,
        "cpuOptions": { "coreCount": 1, "threadsPerCore": 2 },
        "capacityReservationSpecification": { "capacityReservationPreference": "open" },
        "hibernationOptions": { "configured": false },
        "enclaveOptions": { "enabled": false },
        "metadataOptions": { "state": "pending", "httpTokens": "required", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled", "httpProtocolIpv4": "ipv4", "httpProtocolIpv6": "disabled", "instanceMetadataTags": "disabled" },
        "maintenanceOptions": { "autoRecovery": "default" },
        "privateDnsNameOptions": { "hostnameType": "ip-name", "enableResourceNameDnsARecord": false, "enableResourceNameDnsAAAARecord": false }
    });
    if let (Some(target), Value::Object(extra)) = (instance.as_object_mut(), options) {
        target.extend(extra);
    }
    instance
}

/// Builds `RunInstances` with its full response, one of the larger records (several
/// KB per instance started).
pub(crate) fn ec2_run_instances(ctx: &mut Ctx) -> Call {
    let count = *pick(ctx.rng, &[1usize, 1, 1, 2, 3, 6]);
    let ami = pick(ctx.rng, &ctx.account.amis).clone();
    let subnet = pick(ctx.rng, &ctx.account.subnets).clone();
    let group = pick(ctx.rng, &ctx.account.security_groups).clone();
    let instance_type = pick(
        ctx.rng,
        &["t3.medium", "m6i.large", "c7g.xlarge", "r6i.2xlarge"],
    )
    .to_string();
    let reservation = format!("r-{}", random::hex(ctx.rng, 17));
    let launch = Launch {
        ami: ami.clone(),
        subnet: subnet.clone(),
        group: group.clone(),
        vpc: ctx.account.vpcs[0].clone(),
        instance_type: instance_type.clone(),
        zone: format!("{}{}", ctx.region, pick(ctx.rng, &["a", "b", "c"])),
        time_ms: ctx.time * 1000,
    };
    let instances: Vec<Value> = (0..count)
        .map(|index| launched_instance(ctx, &launch, index))
        .collect();
    Call::new("ec2.amazonaws.com", "RunInstances", false)
        .request(json!({
            "instancesSet": item_list(&[json!({ "imageId": ami, "minCount": count, "maxCount": count })]),
            "instanceType": instance_type,
            "blockDeviceMapping": {}, "monitoring": { "enabled": false },
            "disableApiTermination": false, "disableApiStop": false,
            "clientToken": random::uuid(ctx.rng).to_uppercase(),
            "networkInterfaceSet": item_list(&[json!({ "deviceIndex": 0, "subnetId": subnet, "groupSet": item_list(&[json!({ "groupId": group })]) })]),
            "iamInstanceProfile": { "name": "app-ec2-instance" },
            "ebsOptimized": false,
            "metadataOptions": { "httpTokens": "required", "httpPutResponseHopLimit": 2 },
            "tagSpecificationSet": item_list(&[json!({ "resourceType": "instance", "tags": [{ "key": "Name", "value": format!("{}-worker", ctx.account.environment) }] })])
        }))
        .response(json!({
            "requestId": random::uuid(ctx.rng),
            "reservationId": reservation,
            "ownerId": ctx.account.id,
            "groupSet": {},
            "instancesSet": { "items": instances }
        }))
}

pub(crate) fn ec2_create_network_interface(ctx: &mut Ctx) -> Call {
    let subnet = pick(ctx.rng, &ctx.account.subnets).clone();
    let group = pick(ctx.rng, &ctx.account.security_groups).clone();
    let eni = format!("eni-{}", random::hex(ctx.rng, 17));
    let ip = format!(
        "10.20.{}.{}",
        ctx.rng.random_range(0..64),
        ctx.rng.random_range(4..250)
    );
    Call::new("ec2.amazonaws.com", "CreateNetworkInterface", false)
        .request(json!({ "subnetId": subnet, "description": "AWS Lambda VPC ENI", "groupSet": item_list(&[json!({ "groupId": group })]), "privateIpAddressesSet": {} }))
        .response(json!({
            "requestId": random::uuid(ctx.rng),
            "networkInterface": {
                "networkInterfaceId": eni, "subnetId": subnet, "vpcId": ctx.account.vpcs[0],
                "ownerId": ctx.account.id, "requesterId": "AROA-lambda", "requesterManaged": true,
                "status": "pending", "privateIpAddress": ip, "sourceDestCheck": true,
                "interfaceType": "lambda",
                "groupSet": item_list(&[json!({ "groupId": group, "groupName": "lambda" })]),
                "privateIpAddressesSet": item_list(&[json!({ "privateIpAddress": ip, "primary": true })]),
                "ipv6AddressesSet": {}, "tagSet": {}
            }
        }))
}

pub(crate) fn lambda_read(ctx: &mut Ctx) -> Call {
    let function = pick(ctx.rng, &ctx.account.functions).clone();
    let (name, request) = match ctx.rng.random_range(0..5) {
        0 => ("ListFunctions20150331", json!({ "maxItems": 50 })),
        1 => ("GetFunction20150331v2", json!({ "functionName": function })),
        2 => (
            "GetFunctionConfiguration20150331v2",
            json!({ "functionName": function }),
        ),
        3 => (
            "ListVersionsByFunction20150331",
            json!({ "functionName": function, "maxItems": 50 }),
        ),
        _ => ("GetPolicy20150331v2", json!({ "functionName": function })),
    };
    Call::new("lambda.amazonaws.com", name, true).request(request)
}

pub(crate) fn lambda_update_code(ctx: &mut Ctx) -> Call {
    let function = pick(ctx.rng, &ctx.account.functions).clone();
    let arn = format!(
        "arn:aws:lambda:{}:{}:function:{function}",
        ctx.region, ctx.account.id
    );
    let bucket = ctx.account.buckets[0].clone();
    let sha = random::base64(ctx.rng, 43);
    let size = ctx.rng.random_range(200_000..40_000_000u32);
    Call::new("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false)
        .request(json!({ "functionName": function, "s3Bucket": bucket, "s3Key": format!("lambda/{function}/{}.zip", random::hex(ctx.rng, 12)), "publish": true, "dryRun": false }))
        .response(json!({
            "functionName": function, "functionArn": arn, "runtime": "python3.12",
            "role": format!("arn:aws:iam::{}:role/lambda-orders-exec", ctx.account.id),
            "handler": "app.handler", "codeSize": size, "description": "", "timeout": 30, "memorySize": 512,
            "lastModified": format!("{}.000+0000", format_event_time(ctx.time).trim_end_matches('Z')),
            "codeSha256": format!("{sha}="), "version": ctx.rng.random_range(2..300).to_string(),
            "tracingConfig": { "mode": "PassThrough" }, "revisionId": random::uuid(ctx.rng),
            "state": "Active", "lastUpdateStatus": "InProgress", "lastUpdateStatusReason": "The function is being created.",
            "lastUpdateStatusReasonCode": "Creating", "packageType": "Zip", "architectures": ["arm64"],
            "ephemeralStorage": { "size": 512 }, "snapStart": { "applyOn": "None", "optimizationStatus": "Off" },
            "runtimeVersionConfig": { "runtimeVersionArn": format!("arn:aws:lambda:{}::runtime:{}", ctx.region, random::hex(ctx.rng, 64)) },
            "loggingConfig": { "logFormat": "Text", "logGroup": format!("/aws/lambda/{function}") }
        }))
}

pub(crate) fn ecr_call(ctx: &mut Ctx) -> Call {
    let repository = format!(
        "{}/{}",
        ctx.account.environment,
        pick(ctx.rng, &["api", "worker", "frontend"])
    );
    match ctx.rng.random_range(0..4) {
        0 => Call::new("ecr.amazonaws.com", "GetAuthorizationToken", true),
        1 => Call::new("ecr.amazonaws.com", "DescribeRepositories", true)
            .request(json!({ "maxResults": 100 })),
        2 => Call::new("ecr.amazonaws.com", "BatchGetImage", true).request(json!({
            "registryId": ctx.account.id, "repositoryName": repository,
            "imageIds": [{ "imageTag": format!("sha-{}", random::hex(ctx.rng, 7)) }],
            "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"]
        })),
        _ => Call::new("ecr.amazonaws.com", "GetDownloadUrlForLayer", true).request(json!({
            "registryId": ctx.account.id, "repositoryName": repository,
            "layerDigest": format!("sha256:{}", random::hex(ctx.rng, 64))
        })),
    }
}

pub(crate) fn ecs_read(ctx: &mut Ctx) -> Call {
    let cluster = pick(ctx.rng, &ctx.account.clusters).clone();
    match ctx.rng.random_range(0..4) {
        0 => Call::new("ecs.amazonaws.com", "DescribeServices", true)
            .request(json!({ "cluster": cluster, "services": ["api", "worker"] })),
        1 => Call::new("ecs.amazonaws.com", "ListTasks", true)
            .request(json!({ "cluster": cluster, "desiredStatus": "RUNNING" })),
        2 => Call::new("ecs.amazonaws.com", "DescribeTaskDefinition", true).request(
            json!({ "taskDefinition": format!("{cluster}:{}", ctx.rng.random_range(10..400)) }),
        ),
        _ => Call::new("ecs.amazonaws.com", "DescribeClusters", true)
            .request(json!({ "clusters": [cluster], "include": ["SETTINGS"] })),
    }
}

/// Builds `RegisterTaskDefinition`, the largest common record: tens of KB when a
/// task has many containers with many environment variables. CloudTrail
/// sometimes replaces the `environment` array with the string
/// `HIDDEN_DUE_TO_SECURITY_REASONS`, so the same path contains an array in one
/// record and a string in another.
pub(crate) fn ecs_register_task_definition(ctx: &mut Ctx) -> Call {
    let family = format!(
        "{}-{}",
        ctx.account.environment,
        pick(ctx.rng, &["api", "worker", "scheduler"])
    );
    let hidden = ctx.rng.random_bool(0.3);
    let containers: Vec<Value> = (0..ctx.rng.random_range(1..9))
        .map(|index| {
            let environment = if hidden {
                json!("HIDDEN_DUE_TO_SECURITY_REASONS")
            } else {
                let variables: Vec<Value> = (0..ctx.rng.random_range(5..45))
                    .map(|var| json!({ "name": format!("APP_SETTING_{index}_{var}"), "value": format!("{}-{}", ctx.account.environment, random::lower_alnum(ctx.rng, 12)) }))
                    .collect();
                Value::Array(variables)
            };
            json!({
                "name": format!("container-{index}"),
                "image": format!("{}.dkr.ecr.{}.amazonaws.com/{}:sha-{}", ctx.account.id, ctx.region, family, random::hex(ctx.rng, 7)),
                "cpu": 256, "memory": 512, "essential": index == 0,
                "portMappings": [{ "containerPort": 8080 + index, "hostPort": 8080 + index, "protocol": "tcp" }],
                "environment": environment,
                "logConfiguration": { "logDriver": "awslogs", "options": { "awslogs-group": format!("/ecs/{family}"), "awslogs-region": ctx.region, "awslogs-stream-prefix": "ecs" } },
                "healthCheck": { "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 30, "timeout": 5, "retries": 3 }
            })
        })
        .collect();
    Call::new("ecs.amazonaws.com", "RegisterTaskDefinition", false)
        .request(json!({
            "family": family,
            "taskRoleArn": format!("arn:aws:iam::{}:role/ecs-task-api", ctx.account.id),
            "executionRoleArn": format!("arn:aws:iam::{}:role/ecs-task-api", ctx.account.id),
            "networkMode": "awsvpc",
            "containerDefinitions": containers,
            "requiresCompatibilities": ["FARGATE"], "cpu": "1024", "memory": "2048"
        }))
        .response(json!({
            "taskDefinition": {
                "taskDefinitionArn": format!("arn:aws:ecs:{}:{}:task-definition/{family}:{}", ctx.region, ctx.account.id, ctx.rng.random_range(10..500)),
                "family": family, "status": "ACTIVE", "compatibilities": ["EC2", "FARGATE"],
                "registeredAt": format_sts_time(ctx.time)
            }
        }))
}

pub(crate) fn elb_read(ctx: &mut Ctx) -> Call {
    let name = match ctx.rng.random_range(0..4) {
        0 => "DescribeLoadBalancers",
        1 => "DescribeTargetGroups",
        2 => "DescribeListeners",
        _ => "DescribeTargetHealth",
    };
    let request = if name == "DescribeTargetHealth" {
        json!({ "targetGroupArn": format!("arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}-api/{}", ctx.region, ctx.account.id, ctx.account.environment, random::hex(ctx.rng, 16)) })
    } else {
        json!({ "pageSize": 400 })
    };
    Call::new("elasticloadbalancing.amazonaws.com", name, true).request(request)
}

pub(crate) fn autoscaling_read(ctx: &mut Ctx) -> Call {
    let name = if ctx.rng.random_bool(0.6) {
        "DescribeAutoScalingGroups"
    } else {
        "DescribeScalingActivities"
    };
    Call::new("autoscaling.amazonaws.com", name, true)
        .request(json!({ "autoScalingGroupNames": [format!("{}-workers", ctx.account.environment)], "maxRecords": 50 }))
}
