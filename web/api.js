// The workshop's HTTP API, always with the link's secret in an Authorization header:
// never in a URL, so it reaches no access log, history or Referer. Downloads are fetched
// the same way and handed to the browser as a blob.

/** Calls for one workshop, authorized by one link's secret. */
export class Api {
  constructor(workshop, token) {
    this.base = `/api/workshops/${workshop}`;
    this.token = token;
  }

  async request(path, { method = "GET", body = undefined, type = undefined } = {}) {
    const headers = { authorization: `Bearer ${this.token}` };
    if (type) headers["content-type"] = type;
    const response = await fetch(this.base + path, { method, headers, body, cache: "no-store" });
    if (!response.ok) {
      let body = null;
      try {
        body = await response.json();
      } catch {
        // not JSON: the status text will do
      }
      throw new ApiError(response.status, body?.message ?? response.statusText, body);
    }
    return response;
  }

  /** GET (or another method) a JSON answer. */
  async json(path, options) {
    const response = await this.request(path, options);
    return response.status === 204 ? null : response.json();
  }

  /** Fetch a file and save it under the name the server gives it. */
  async download(path) {
    const response = await this.request(path);
    const disposition = response.headers.get("content-disposition") ?? "";
    const name = disposition.match(/filename="([^"]+)"/)?.[1] ?? "atelier";
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser copies it first
    return name;
  }
}

/** An HTTP error, with the server's message and its JSON body (null if none). */
export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}
