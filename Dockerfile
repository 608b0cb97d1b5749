# Builds the release binary and site, then ships them on a slim Debian.
# Not runnable on the development machines (no Docker engine there); kept correct by reading.

FROM rust:1.95-bookworm AS build
# Tailwind 4 wants Node 20; Debian bookworm ships 18, so take Node from the official image.
COPY --from=node:20-bookworm-slim /usr/local/bin/node /usr/local/bin/node
COPY --from=node:20-bookworm-slim /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s /usr/local/lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
WORKDIR /src
COPY . .
# The wasm target, Tailwind, esbuild and Binaryen from npm, the site tool (tools/site), then
# the site and the server: what `cargo xtask run` builds, without the system packages.
RUN cargo xtask build

FROM debian:bookworm-slim
# libssl3: webauthn-rs verifies signatures with OpenSSL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/strata strata \
 && mkdir -p /var/lib/strata && chown strata /var/lib/strata
# hash.txt must sit beside the binary: it maps asset names to their hashed file names.
COPY --from=build /src/target/release/strata /src/target/release/hash.txt /app/
COPY --from=build /src/target/site /app/site
ENV STRATA_LISTEN=0.0.0.0:3000 \
    STRATA_SITE_ROOT=/app/site \
    STRATA_DATA_DIR=/var/lib/strata
USER strata
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/strata"]
CMD ["serve"]
