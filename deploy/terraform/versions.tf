# Terraform and provider versions, the state backend and the AWS provider.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }

  # Remote state (S3 with DynamoDB locking). Partial configuration: the bucket, key, region and lock table
  # are given at `terraform init -backend-config=backend.hcl` (see backend.hcl.example and README.md), so
  # no account detail is committed. The state holds resource attributes (never the secret values, which
  # are filled out of band), but keep its bucket encrypted, versioned and private all the same.
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  # Every resource that takes tags gets these; resource blocks add only a Name.
  default_tags {
    tags = local.tags
  }
}
