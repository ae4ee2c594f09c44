# ECS on Fargate: a cluster with Container Insights, the API service in the private application subnets
# behind the load balancer, and a one-shot `ehr migrate` task definition for upgrades
# (docs/operations.md, Upgrades and migrations).
#
# The container runs as the image's unprivileged user, with a read-only root file system, every Linux
# capability dropped, and its secrets injected from Secrets Manager by the `secrets` block.

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # ECS Exec is off on the service (enable_execute_command = false); should it be turned on for an
  # investigation, its sessions are encrypted and logged.
  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.logs.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.app.name
      }
    }
  }

  tags = { Name = local.name }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

# ---------------------------------------------------------------------------------------------------------
# Task definitions
# ---------------------------------------------------------------------------------------------------------

locals {
  # The fixed settings come last so that container_environment cannot override them.
  container_environment = merge(
    var.container_environment,
    {
      EHR_ENV          = "production"
      EHR_HOST         = "0.0.0.0"
      EHR_PORT         = tostring(local.container_port)
      EHR_LOG_FORMAT   = "json"
      EHR_LOG_LEVEL    = var.log_level
      EHR_DB_POOL_SIZE = tostring(var.db_pool_size)
      EHR_SEED_DEMO    = "false"
      # The ALB's addresses are in the VPC: only its X-Forwarded-For names the client (throttle and audit).
      EHR_TRUSTED_PROXIES = var.vpc_cidr
      # Written only in development; points at the scratch volume since the root fs is read-only.
      EHR_DATA_DIR = "/tmp/ehr"
      # ICE servers handed to televisit clients; empty: none. EHR_TURN_SECRET comes from Secrets Manager
      # (secrets.tf) when one of them is a TURN server.
      EHR_TURN_URLS = join(",", var.turn_urls)
    },
  )

  # Secrets Manager ARN -> environment variable, resolved by ECS (execution role) when a task starts.
  container_secrets = concat(
    [
      for key, secret in local.app_secrets : {
        name      = secret.env
        valueFrom = aws_secretsmanager_secret.app[key].arn
      }
    ],
    [for secret in aws_secretsmanager_secret.turn : { name = "EHR_TURN_SECRET", valueFrom = secret.arn }],
  )

  # Common hardening of both containers.
  container_base = {
    name                   = local.container_name
    image                  = var.container_image
    essential              = true
    user                   = var.container_user
    readonlyRootFilesystem = true
    privileged             = false
    environment            = [for k in sort(keys(local.container_environment)) : { name = k, value = local.container_environment[k] }]
    secrets                = local.container_secrets
    mountPoints = [{
      sourceVolume  = "tmp"
      containerPath = "/tmp"
      readOnly      = false
    }]
    linuxParameters = {
      initProcessEnabled = true
      capabilities       = { drop = ["ALL"], add = [] }
    }
    ulimits = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
  }
}

resource "aws_ecs_task_definition" "api" {
  family                   = "${local.name}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.ecs_execution.arn
  task_role_arn            = aws_iam_role.ecs_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # Scratch space on the task's ephemeral storage (encrypted by Fargate), the only writable path.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    merge(local.container_base, {
      command = ["serve", "--hostname", "0.0.0.0", "--port", tostring(local.container_port)]
      portMappings = [{
        containerPort = local.container_port
        protocol      = "tcp"
      }]
      # /health answers without the database; the load balancer checks /ready (alb.tf). The image ships curl
      # for exactly this (Dockerfile, HEALTHCHECK).
      healthCheck = {
        command     = ["CMD", "curl", "--fail", "--silent", "--show-error", "--max-time", "3", "--output", "/dev/null", "http://127.0.0.1:${local.container_port}/health"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
      stopTimeout = 30
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "api"
          mode                  = "non-blocking"
          max-buffer-size       = "25m"
        }
      }
    })
  ])

  tags = { Name = "${local.name}-api" }
}

# `aws ecs run-task --task-definition <migrate_task_definition_arn> ...` (README.md, Upgrades).
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.ecs_execution.arn
  task_role_arn            = aws_iam_role.ecs_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    merge(local.container_base, {
      command = ["migrate"]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "migrate"
        }
      }
    })
  ])

  tags = { Name = "${local.name}-migrate" }
}

# ---------------------------------------------------------------------------------------------------------
# Service and autoscaling
# ---------------------------------------------------------------------------------------------------------

resource "aws_ecs_service" "api" {
  name             = "${local.name}-api"
  cluster          = aws_ecs_cluster.main.id
  task_definition  = aws_ecs_task_definition.api.arn
  desired_count    = var.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  network_configuration {
    subnets          = aws_subnet.app[*].id
    security_groups  = [aws_security_group.ecs.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = local.container_name
    container_port   = local.container_port
  }

  # Rolling deployment: new tasks pass /ready before old ones drain; a deployment that never becomes
  # healthy is rolled back.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 90

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_execute_command  = false
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  tags = { Name = "${local.name}-api" }

  # Autoscaling owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.https]
}

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "api_cpu" {
  name               = "${local.name}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# ---------------------------------------------------------------------------------------------------------
# IAM: the execution role (ECS agent: pull the image, read the secrets, write logs) and the task role (the
# application itself, which calls no AWS API and so is granted nothing).
# ---------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "ecs_execution" {
  name               = "${local.name}-ecs-execution"
  description        = "ECS agent for the API tasks: pull the image, read the API's secrets, write its logs."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "ecs_execution" {
  statement {
    sid       = "ReadTheApiSecretsOnly"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([for s in aws_secretsmanager_secret.app : s.arn], aws_secretsmanager_secret.turn[*].arn)
  }

  statement {
    sid       = "DecryptThoseSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid     = "WriteTheApiLogGroupOnly"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      aws_cloudwatch_log_group.app.arn,
      "${aws_cloudwatch_log_group.app.arn}:*",
    ]
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]

    content {
      sid       = "PullTheApiImageOnly"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]

    content {
      sid       = "EcrLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
    }
  }
}

resource "aws_iam_role_policy" "ecs_execution" {
  name   = "pull-image-read-secrets-write-logs"
  role   = aws_iam_role.ecs_execution.id
  policy = data.aws_iam_policy_document.ecs_execution.json
}

resource "aws_iam_role" "ecs_task" {
  name               = "${local.name}-ecs-task"
  description        = "The API process. It calls no AWS API, so no policy is attached."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}
