# RDS PostgreSQL 15: Multi-AZ, KMS-encrypted storage and Performance Insights, automated backups with
# point-in-time recovery, deletion protection, TLS enforced by the parameter group, IAM authentication,
# Enhanced Monitoring, logs exported to KMS-encrypted CloudWatch log groups. The master password is
# generated and rotated by RDS in Secrets Manager (manage_master_user_password), encrypted with the data key.

locals {
  db_identifier = "${local.name}-postgres"
}

resource "aws_db_subnet_group" "main" {
  name        = "${local.name}-data"
  description = "Private data subnets (no route out of the VPC)"
  subnet_ids  = aws_subnet.data[*].id

  tags = { Name = "${local.name}-data" }
}

resource "aws_db_parameter_group" "postgres15" {
  name_prefix = "${local.name}-postgres15-"
  family      = "postgres15"
  description = "${local.name}: TLS only, connection and DDL logging, slow statements without bind parameters"

  # Every connection must use TLS (plain connections are refused), TLS 1.2 at least.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "ssl_min_protocol_version"
    value = "TLSv1.2"
  }

  # Who connected and when (exported to CloudWatch Logs).
  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  # Schema changes are logged; data statements are not (they would carry PHI): the application's own
  # audit chain records data access.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  # Slow statements are logged as text with $n placeholders; their bind parameters (PHI) never are.
  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.db_slow_query_ms)
  }

  parameter {
    name  = "log_parameter_max_length"
    value = "0"
  }

  parameter {
    name  = "log_parameter_max_length_on_error"
    value = "0"
  }

  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "main" {
  identifier     = local.db_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name                             = var.db_name
  username                            = var.db_master_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.data.arn
  iam_database_authentication_enabled = true

  # Storage: gp3, encrypted with the data key, grows on its own up to the ceiling.
  storage_type          = "gp3"
  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  # Availability and network: a synchronous standby in another zone, private data subnets only.
  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  publicly_accessible    = false
  port                   = 5432
  parameter_group_name   = aws_db_parameter_group.postgres15.name
  ca_cert_identifier     = var.db_ca_cert_identifier

  # Backups: daily snapshots plus transaction logs give point-in-time recovery for the whole retention
  # period; automated backups are kept after the instance is deleted, and a final snapshot is taken.
  backup_retention_period   = var.db_backup_retention_days
  backup_window             = var.db_backup_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.db_identifier}-final"
  deletion_protection       = true

  # Maintenance: minor versions (security fixes) are applied in the window; major ones only by a change here.
  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  maintenance_window          = var.db_maintenance_window
  apply_immediately           = false

  # Observability.
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  performance_insights_retention_period = var.db_performance_insights_retention_days
  monitoring_interval                   = var.db_monitoring_interval
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn

  tags = { Name = local.db_identifier }

  # The log groups exist (with KMS and retention) before RDS would create them without either.
  depends_on = [
    aws_cloudwatch_log_group.rds,
    aws_iam_role_policy_attachment.rds_monitoring,
  ]
}

# ---------------------------------------------------------------------------------------------------------
# Enhanced Monitoring role
# ---------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${local.name}-rds-monitoring"
  description        = "Lets RDS Enhanced Monitoring publish OS metrics to CloudWatch Logs."
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
