# syntax=docker/dockerfile:1
#
# MentalSpace EHR API image.
#   docker build -t mentalspace-ehr:local .
#   docker run --rm -p 127.0.0.1:8080:8080 --env-file .env mentalspace-ehr:local
#
# Two stages: a Swift toolchain builds a release binary with the Swift runtime and Foundation linked in
# statically; the runtime stage is plain Ubuntu with only what that binary loads at run time.
# No secret is baked in: every key comes from the environment or a mounted file when the container starts,
# and with EHR_ENV=production (the default here) the service refuses to start without them.

# ---------------------------------------------------------------------------------------------------------
# Build stage. The package declares tools 6.1 and the team builds with 6.3; swift:6.3-noble is the official
# Swift 6.3 image on Ubuntu 24.04 (noble), the same distribution as the runtime stage below, so the glibc and
# libstdc++ the binary was linked against are the ones it runs with.
# ---------------------------------------------------------------------------------------------------------
FROM swift:6.3-noble AS build

WORKDIR /build

# Dependencies first, in their own layer: it is rebuilt only when the manifest or the lock file changes.
# Package.resolve[d] is a glob so the COPY also works in a checkout without a Package.resolved.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

# Then the sources (.dockerignore keeps out build folders, local data, secrets and the iOS app).
COPY . .

# Release build of the server only. --static-swift-stdlib links the Swift runtime, Foundation and ICU data
# into the binary. -cross-module-optimization lets the compiler specialise and inline the libraries' generic code
# (NIO, Hummingbird, PostgresNIO) in the server's hot paths: about 5% less server CPU a request
# (docs/performance.md). bench/run builds with the same flags. The binary, every resource bundle SwiftPM put next
# to it (mentalspace-ehr_EHRAPI.resources holds openapi.yaml, found through Bundle.module beside the executable)
# and the toolchain's static backtracer (for readable crash logs) are staged for the runtime image.
RUN swift build -c release --product ehr --static-swift-stdlib -Xswiftc -cross-module-optimization \
    && bin_path="$(swift build -c release --show-bin-path)" \
    && mkdir -p /staging \
    && cp "${bin_path}/ehr" /staging/ \
    && find -L "${bin_path}" -mindepth 1 -maxdepth 1 -type d -name '*.resources' -exec cp -R {} /staging/ \; \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/

# ---------------------------------------------------------------------------------------------------------
# Runtime stage.
#   ca-certificates  trust roots for TLS to PostgreSQL (a managed database with sslmode=require or stricter).
#   tzdata           Foundation's TimeZone reads /usr/share/zoneinfo.
#   libstdc++6       still linked dynamically with --static-swift-stdlib (already in the base image; listed
#                    so it cannot silently disappear).
#   curl             the HEALTHCHECK below; the binary has no health subcommand.
# Not needed: libsqlite3 (sqlite-nio compiles SQLite in), libcurl/libxml2 (the server does not link
# FoundationNetworking or FoundationXML).
# ---------------------------------------------------------------------------------------------------------
FROM ubuntu:noble

# Why ignore DL3008 (pin apt versions): the Ubuntu archive drops superseded versions, so pinned versions
# break the build on the next security update; the base image tag and a rebuild decide the versions instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        curl \
        libstdc++6 \
        tzdata \
    && rm -rf /var/lib/apt/lists/*

# Amazon RDS signs its server certificates with its own CA, which is not in the system bundle, and the
# PostgreSQL driver verifies the server against the system bundle: add the RDS global bundle.
ADD --chmod=0644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /usr/local/share/ca-certificates/rds-global-bundle.crt
RUN update-ca-certificates

# A fixed, unprivileged uid/gid (10001) so bind-mounted secret files can be chowned to it on the host.
RUN groupadd --system --gid 10001 ehr \
    && useradd --system --uid 10001 --gid ehr --no-create-home --home-dir /app --shell /usr/sbin/nologin ehr \
    && mkdir -p /var/lib/ehr \
    && chown ehr:ehr /var/lib/ehr \
    && chmod 0700 /var/lib/ehr

WORKDIR /app
# Owned by root and not writable by the service user: the process cannot alter its own binary.
COPY --from=build /staging /app

# EHR_ENV=production: PostgreSQL (DATABASE_URL), EHR_JWT_PRIVATE_KEY[_FILE], EHR_MASTER_KEY[_FILE],
# EHR_AUDIT_KEY[_FILE] and EHR_METRICS_TOKEN are required, or the process exits at start-up.
# EHR_DATA_DIR is only written in development (SQLite fallback, generated development keys).
ENV EHR_ENV=production \
    EHR_DATA_DIR=/var/lib/ehr \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

# Numeric, so Kubernetes' runAsNonRoot (and anyone reading the image config) can tell it is not root.
USER 10001:10001

EXPOSE 8080

# /health only says the process serves HTTP (it does not touch the database). It assumes the default port:
# change it here as well if CMD is given another --port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--show-error", "--max-time", "3", "--output", "/dev/null", "http://127.0.0.1:8080/health"]

ENTRYPOINT ["/app/ehr"]
CMD ["serve", "--hostname", "0.0.0.0", "--port", "8080"]
