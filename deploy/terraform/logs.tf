# CloudWatch log groups, all encrypted with the logs key and kept at least 365 days (log_retention_days).
# The application logs no PHI (docs/operations.md, Logs), but request metadata and tenant ids are still
# sensitive, so they get the same treatment as the database and network logs.

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${local.name}/api"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = { Name = "${local.name}-api" }
}

# Created here (not by RDS on first export) so that they have KMS encryption and a retention period.
resource "aws_cloudwatch_log_group" "rds" {
  for_each = toset(["postgresql", "upgrade"])

  name              = "/aws/rds/instance/${local.db_identifier}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = { Name = "${local.db_identifier}-${each.key}" }
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/vpc/${local.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = { Name = "${local.name}-flow-logs" }
}
