# vigie in a container: the static binary `make dist` builds (no cgo; the time
# zones and the starter pack are built in) on distroless's static image, which
# adds only CA certificates and a non-root user. No image was built from this
# file on the machine vigie is developed on (no Docker engine runs there);
# cmd/vigie's TestDockerfile checks it without Docker, and runs the go build
# line below.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t vigie .
#   docker run --rm -p 8080:8080 -e VIGIE_WEBHOOK_SECRET=… -e VIGIE_ADMIN_TOKEN=… vigie
#
# Without a rule file in /etc/vigie it runs the starter pack built in; mount
# yours there (vigie init DIR writes one to edit): -v "$PWD/mybot:/etc/vigie:ro".

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vigie ./cmd/vigie

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vigie /usr/local/bin/vigie
# distroless's nonroot user, by number so that a runtime that refuses root can
# tell without reading /etc/passwd.
USER 65532:65532
WORKDIR /etc/vigie
# Listening beyond loopback needs VIGIE_WEBHOOK_SECRET and VIGIE_ADMIN_TOKEN, of
# at least 16 characters each (openssl rand -hex 32): without them, or with a
# shorter one, vigie says which and exits 2.
ENV VIGIE_LISTEN=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vigie"]
CMD ["run"]
