# Inputs. Every variable has a description and a type; those without a default must be set (see
# terraform.tfvars.example). README.md lists them in a table.

# ---------------------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------------------

variable "project" {
  description = "Project name: the first part of every resource name."
  type        = string
  default     = "mentalspace-ehr"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 lower-case letters, digits or hyphens, starting with a letter (load balancer and target group names are limited to 32 characters)."
  }
}

variable "environment" {
  description = "Environment name (e.g. prod, staging): the second part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lower-case letters or digits, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Extra tags added to every resource (on top of Project, Environment, ManagedBy and DataClass)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC. A /16 is split into public /24s (load balancer, NAT), private application /20s (ECS) and private data /24s (RDS)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "availability_zones" {
  description = "Names of the 2 or 3 availability zones to spread the subnets over, in aws_region. Pinned by name (not \"the first N available\") so that a zone AWS adds or impairs never reshuffles the subnets."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must name 2 or 3 distinct zones."
  }
}

variable "single_nat_gateway" {
  description = "true: one NAT gateway for all zones (cheaper, but outbound traffic from the private subnets stops if its zone fails). false: one per zone."
  type        = bool
  default     = false
}

variable "flow_log_traffic_type" {
  description = "Which traffic the VPC flow logs record: ACCEPT, REJECT or ALL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "flow_log_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------------------------

variable "certificate_arn" {
  description = "ARN of the ACM certificate for the HTTPS listener (issued in aws_region for the API's host name). No default: there is no HTTP-only mode."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener. The default allows TLS 1.3 and TLS 1.2 with forward-secret AEAD ciphers only."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-(TLS13-1-[23]-|FS-1-2-|TLS-1-2-)", var.ssl_policy))
    error_message = "ssl_policy must be a policy without TLS 1.0/1.1 (ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-*, -FS-1-2-* or -TLS-1-2-*)."
  }
}

variable "alb_ingress_cidrs" {
  description = "IPv4 CIDRs allowed to reach the load balancer on 443 (and on 80, which only redirects to 443). Default: the whole internet."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "waf_web_acl_arn" {
  description = "Optional ARN of a regional AWS WAFv2 web ACL to associate with the load balancer. null: no WAF (see README.md for why it is left to the operator)."
  type        = string
  default     = null
}

variable "block_metrics_path" {
  description = "true: the load balancer answers 404 to /metrics itself, so the Prometheus endpoint is never reachable from the internet (scrape the tasks from inside the VPC instead, see metrics_scraper_security_group_id)."
  type        = bool
  default     = true
}

variable "metrics_scraper_security_group_id" {
  description = "Optional security group of a Prometheus inside the VPC; it may reach the API tasks on 8080 (GET /metrics with the EHR_METRICS_TOKEN bearer). null: no such rule."
  type        = string
  default     = null
}

variable "alb_idle_timeout" {
  description = "Load balancer idle timeout in seconds."
  type        = number
  default     = 60
}

# ---------------------------------------------------------------------------------------------------------
# Service (ECS Fargate)
# ---------------------------------------------------------------------------------------------------------

variable "container_image" {
  description = "Image of the API, preferably pinned by digest (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/mentalspace-ehr@sha256:...). Built from the repository's Dockerfile."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository that holds container_image; the task execution role may pull from it only. null when the image is in a public registry."
  type        = string
  default     = null
}

variable "container_user" {
  description = "uid:gid the container runs as. The image's `ehr` user is 10001:10001; never 0 (root)."
  type        = string
  default     = "10001:10001"

  validation {
    condition     = can(regex("^[1-9][0-9]*(:[1-9][0-9]*)?$", var.container_user))
    error_message = "container_user must be a non-zero numeric uid or uid:gid (never root)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units (1024 = 1 vCPU)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must be valid for task_cpu)."
  type        = number
  default     = 2048
}

variable "desired_count" {
  description = "Number of API tasks at creation; autoscaling moves it between min_capacity and max_capacity afterwards."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling minimum number of API tasks (2 or more keeps one per zone through a zone failure)."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling maximum number of API tasks. Size the database's max_connections for max_capacity x db_pool_size x vCPUs."
  type        = number
  default     = 6
}

variable "autoscaling_cpu_target" {
  description = "Average CPU utilisation (percent) the service's target-tracking policy aims for."
  type        = number
  default     = 60
}

variable "db_pool_size" {
  description = "EHR_DB_POOL_SIZE: PostgreSQL connections per event loop (one event loop per vCPU)."
  type        = number
  default     = 4
}

variable "log_level" {
  description = "EHR_LOG_LEVEL: swift-log level (trace, debug, info, notice, warning, error, critical)."
  type        = string
  default     = "info"
}

variable "container_environment" {
  description = "Extra plain (non-secret) environment variables for the container, e.g. EHR_TELEVISIT_BASE_URL, EHR_JWT_ISSUER. Secrets never go here; the settings this module fixes (EHR_ENV, EHR_HOST, EHR_PORT, ...) cannot be overridden."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.container_environment), [
      "DATABASE_URL", "EHR_JWT_PRIVATE_KEY", "EHR_JWT_PRIVATE_KEY_FILE", "EHR_MASTER_KEY", "EHR_MASTER_KEY_FILE",
      "EHR_AUDIT_KEY", "EHR_AUDIT_KEY_FILE", "EHR_METRICS_TOKEN", "EHR_TURN_SECRET", "EHR_ADMIN_PASSWORD",
      "EHR_BENCH_DISABLE_AUDIT",
    ])) == 0
    error_message = "container_environment must not carry secrets (they come from Secrets Manager) nor EHR_BENCH_DISABLE_AUDIT."
  }
}

variable "turn_urls" {
  description = "EHR_TURN_URLS: ICE server URLs handed to the televisit clients (stun:, turn: or turns:, e.g. turns:turn.example.org:5349?transport=tcp), passed joined with commas. [] (default): none, so clients behind symmetric NAT or strict firewalls cannot connect. A turn: or turns: URL makes this module create the turn-secret secret (EHR_TURN_SECRET, the TURN server's static-auth-secret). The TURN server itself is deployed separately (README.md, Televisit TURN server)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for url in var.turn_urls : can(regex("^(stun|turns?):[^,\\s]+$", url))])
    error_message = "turn_urls must be stun:, turn: or turns: URLs, without commas or spaces."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Database (RDS PostgreSQL 15)
# ---------------------------------------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL engine version. A major version only (\"15\") lets RDS pick and auto-upgrade the latest 15.x minor release."
  type        = string
  default     = "15"

  validation {
    condition     = can(regex("^15(\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be PostgreSQL 15 (\"15\" or \"15.x\"); the parameter group family is postgres15."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.r6g.large"
}

variable "db_allocated_storage" {
  description = "Initial storage in GiB (gp3)."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 1000
}

variable "db_name" {
  description = "Name of the database created in the instance."
  type        = string
  default     = "ehr"
}

variable "db_master_username" {
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager (manage_master_user_password); the application connects as its own role (see README.md)."
  type        = string
  default     = "ehr_admin"
}

variable "db_backup_retention_days" {
  description = "Days of automated backups kept; point-in-time recovery reaches back this far."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be 7 to 35."
  }
}

variable "db_backup_window" {
  description = "Daily UTC window for automated backups (hh24:mi-hh24:mi); must not overlap the maintenance window."
  type        = string
  default     = "03:00-04:00"
}

variable "db_maintenance_window" {
  description = "Weekly UTC maintenance window (ddd:hh24:mi-ddd:hh24:mi) for minor upgrades and patches."
  type        = string
  default     = "sun:04:30-sun:05:30"
}

variable "db_performance_insights_retention_days" {
  description = "Performance Insights retention: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7

  validation {
    condition     = contains([7, 731], var.db_performance_insights_retention_days) || (var.db_performance_insights_retention_days % 31 == 0 && var.db_performance_insights_retention_days <= 713)
    error_message = "db_performance_insights_retention_days must be 7, a multiple of 31 up to 713, or 731."
  }
}

variable "db_monitoring_interval" {
  description = "Enhanced Monitoring interval in seconds (1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.db_monitoring_interval)
    error_message = "db_monitoring_interval must be 1, 5, 10, 15, 30 or 60 (0 would turn Enhanced Monitoring off)."
  }
}

variable "db_slow_query_ms" {
  description = "log_min_duration_statement: statements slower than this many milliseconds are logged (bind parameters are never logged)."
  type        = number
  default     = 1000
}

variable "db_ca_cert_identifier" {
  description = "RDS certificate authority for the server certificate. The image must trust it (see README.md, TLS to the database)."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

# ---------------------------------------------------------------------------------------------------------
# Storage, logs and alarms
# ---------------------------------------------------------------------------------------------------------

variable "exports_expiration_days" {
  description = "Days after which objects under exports/ in the exports bucket expire (exports are deliveries, not archives)."
  type        = number
  default     = 30
}

variable "backups_expiration_days" {
  description = "Days after which objects under backups/ in the exports bucket expire (default about 6 years, HIPAA's documentation retention)."
  type        = number
  default     = 2190
}

variable "backups_glacier_transition_days" {
  description = "Days after which objects under backups/ move to S3 Glacier Instant Retrieval."
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept (both buckets) before it is removed for good."
  type        = number
  default     = 90
}

variable "access_log_retention_days" {
  description = "Days the load balancer and S3 access logs are kept in the logs bucket."
  type        = number
  default     = 2190
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for the application, database and VPC flow logs (at least 365 days; one of CloudWatch's allowed values)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least 365: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to the alarm topic (the subscription must be confirmed from the mail). null: subscribe something else to the alarm_topic_arn output."
  type        = string
  default     = null
}

variable "alarm_5xx_threshold_percent" {
  description = "The 5xx alarm fires when (load balancer 5xx + target 5xx) / requests exceeds this percentage for alarm_5xx_minutes consecutive minutes."
  type        = number
  default     = 1
}

variable "alarm_5xx_minutes" {
  description = "Consecutive one-minute periods above the threshold before the 5xx alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_5xx_minutes >= 1 && var.alarm_5xx_minutes <= 60
    error_message = "alarm_5xx_minutes must be 1 to 60."
  }
}

variable "alarm_5xx_min_requests" {
  description = "Minutes with fewer requests than this count as 0% (so a single error at night does not page)."
  type        = number
  default     = 20
}
