# Shared names, tags and look-ups used by every other file.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # Prefix of every resource name: "<project>-<environment>", e.g. "mentalspace-ehr-prod".
  name = "${var.project}-${var.environment}"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge(
    {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
      DataClass   = "phi"
    },
    var.tags,
  )

  # The container's name in the task definitions and the load balancer's target.
  container_name = "ehr"
  container_port = 8080
}
