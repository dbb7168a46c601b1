# Two stages: build both static binaries, ship them on distroless as non-root.
# Build: docker build -t agentic-operator:latest .
# config/ runs the same image as `command: [/webhook]` and `command: [/operator]`.

FROM golang:1.26 AS builder
# Set by buildx for multi-platform builds; empty means the builder's own platform.
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace

# Modules first, in their own layer: source edits do not re-download them.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# Static (no cgo) so the binaries run on distroless/static; -trimpath and
# -s -w keep build paths and debug symbols out of the image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/webhook ./cmd/webhook && \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/operator ./cmd/operator

FROM gcr.io/distroless/static:nonroot
# The platform's backend runs scheduled sessions as CronJobs of this image with
# command ["./operator", "session-trigger"] and no workingDir: ./operator is
# /operator from here.
WORKDIR /
COPY --from=builder /out/webhook /out/operator /
# The nonroot user of distroless, numeric so runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/webhook"]
