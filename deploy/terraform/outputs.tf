# Outputs. Nothing secret is output: secrets are referred to by ARN only.

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.main.id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer and NAT gateways only)."
  value       = aws_subnet.public[*].id
}

output "app_subnet_ids" {
  description = "Private application subnets (ECS tasks, one-shot tasks such as migrations)."
  value       = aws_subnet.app[*].id
}

output "data_subnet_ids" {
  description = "Private data subnets (RDS); no route out of the VPC."
  value       = aws_subnet.data[*].id
}

output "alb_dns_name" {
  description = "DNS name of the load balancer: point the API's host name (the certificate's name) at it with an alias or CNAME record."
  value       = aws_lb.main.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone ID of the load balancer, for a Route 53 alias record."
  value       = aws_lb.main.zone_id
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of its CloudWatch metrics)."
  value       = aws_lb.main.arn_suffix
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_name" {
  description = "Name of the API's ECS service (aws ecs update-service --force-new-deployment after filling or rotating a secret)."
  value       = aws_ecs_service.api.name
}

output "api_task_definition_arn" {
  description = "ARN of the API task definition revision in use."
  value       = aws_ecs_task_definition.api.arn
}

output "migrate_task_definition_arn" {
  description = "ARN of the one-shot `ehr migrate` task definition (run it with the ecs_security_group_id in the app subnets)."
  value       = aws_ecs_task_definition.migrate.arn
}

output "ecs_security_group_id" {
  description = "Security group of the API tasks; one-shot tasks (migrate) use it too, to reach the database."
  value       = aws_security_group.ecs.id
}

output "db_address" {
  description = "Host name of the PostgreSQL instance (the host part of DATABASE_URL; TLS verification needs this exact name)."
  value       = aws_db_instance.main.address
}

output "db_port" {
  description = "Port of the PostgreSQL instance."
  value       = aws_db_instance.main.port
}

output "db_name" {
  description = "Name of the application database."
  value       = aws_db_instance.main.db_name
}

output "db_instance_identifier" {
  description = "RDS instance identifier (for point-in-time restores: aws rds restore-db-instance-to-point-in-time)."
  value       = aws_db_instance.main.identifier
}

output "db_subnet_group_name" {
  description = "DB subnet group (the private data subnets), for restores."
  value       = aws_db_subnet_group.main.name
}

output "db_parameter_group_name" {
  description = "Parameter group with rds.force_ssl = 1; give it to every restored instance."
  value       = aws_db_parameter_group.postgres15.name
}

output "rds_security_group_id" {
  description = "Security group of the database (5432 from the API tasks only), for restores."
  value       = aws_security_group.rds.id
}

output "db_master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master user name and password (rotated by RDS)."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "app_secret_arns" {
  description = "ARNs of the API's secrets, by key (database_url, jwt_private_key, master_key, audit_key, metrics_token, and turn_secret when turn_urls names a TURN server). Created empty: fill them as README.md shows."
  value = merge(
    { for key, secret in aws_secretsmanager_secret.app : key => secret.arn },
    { for secret in aws_secretsmanager_secret.turn : "turn_secret" => secret.arn },
  )
}

output "exports_bucket_name" {
  description = "Name of the exports and backups bucket (exports/ and backups/ prefixes)."
  value       = aws_s3_bucket.exports.id
}

output "exports_writer_policy_arn" {
  description = "ARN of the IAM policy that grants read/write on the exports bucket with the data key; attach it to a backup job's or an operator's role."
  value       = aws_iam_policy.exports_writer.arn
}

output "logs_bucket_name" {
  description = "Name of the bucket with the load balancer and S3 access logs."
  value       = aws_s3_bucket.logs.id
}

output "data_kms_key_arn" {
  description = "ARN of the KMS key protecting RDS, the exports bucket and the secrets."
  value       = aws_kms_key.data.arn
}

output "logs_kms_key_arn" {
  description = "ARN of the KMS key protecting the CloudWatch log groups and the alarm topic."
  value       = aws_kms_key.logs.arn
}

output "app_log_group_name" {
  description = "CloudWatch log group of the API (and migrate) containers."
  value       = aws_cloudwatch_log_group.app.name
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms notify; subscribe the on-call tool to it."
  value       = aws_sns_topic.alarms.arn
}

output "alb_5xx_alarm_name" {
  description = "Name of the CloudWatch alarm on the load balancer's 5xx ratio."
  value       = aws_cloudwatch_metric_alarm.alb_5xx_ratio.alarm_name
}
