/**
 * The Lua code the lua mode's include file runs in nginx (lua-nginx-module with lua-resty-core,
 * as Debian's libnginx-mod-http-lua ships it; no cjson there, so the table travels as the small
 * line format of routing-table.ts and the JSON answer is written by hand from validated words).
 *
 * Each worker parses the table only when the dict's version changed since its last request.
 */

export interface LuaModuleOptions {
  readonly module: string;
  readonly dict: string;
  readonly previewHeader: string;
  readonly tokenFile: string;
  readonly stateFile: string;
}

export function renderLuaModule(options: LuaModuleOptions): string {
  const headerVariable = `http_${options.previewHeader.toLowerCase().replace(/-/g, '_')}`;
  return `local M = {}
local DICT = ${luaString(options.dict)}
local TOKEN_FILE = ${luaString(options.tokenFile)}
local STATE_FILE = ${luaString(options.stateFile)}
local PREVIEW_VARIABLE = ${luaString(headerVariable)}
local SLOTS = { "blue", "green" }
local token = nil

local function read_file(path)
    local file = io.open(path, "rb")
    if not file then return nil end
    local text = file:read("*a")
    file:close()
    return text
end

local function is_slot(word)
    return word == "blue" or word == "green"
end

local function whole(word, low, high)
    local n = tonumber(word)
    if n == nil or n % 1 ~= 0 or n < low or n > high then return nil end
    return n
end

-- The table's line format (see routing-table.ts); nil and a reason for anything else.
function M.parse(text)
    local state = { targets = { blue = {}, green = {} } }
    for line in string.gmatch(text, "[^\\n]+") do
        local words = {}
        for word in string.gmatch(line, "%S+") do words[#words + 1] = word end
        local kind = words[1]
        if kind == "weights" and #words == 3 then
            local blue, green = whole(words[2], 0, 100), whole(words[3], 0, 100)
            if blue == nil or green == nil or blue + green ~= 100 then
                return nil, "weights must be two whole percents adding up to 100: " .. line
            end
            state.weights = { blue = blue, green = green }
        elseif kind == "preview" and #words == 2 and (is_slot(words[2]) or words[2] == "none") then
            if words[2] ~= "none" then state.preview = words[2] end
        elseif kind == "previewtoken" and #words == 2 and string.match(words[2], "^[%w%-_.~:]+$") then
            state.preview_token = words[2]
        elseif kind == "target" and #words == 5 and is_slot(words[2]) then
            local id, host, port = words[3], words[4], whole(words[5], 1, 65535)
            if not string.match(id, "^[%w%-_.:]+$") then return nil, "bad target id: " .. line end
            if not string.match(host, "^[%x.:]+$") then return nil, "target host must be an IP address: " .. line end
            if port == nil then return nil, "bad target port: " .. line end
            local list = state.targets[words[2]]
            list[#list + 1] = { id = id, host = host, port = port }
        else
            return nil, "unknown line: " .. line
        end
    end
    if state.weights == nil then return nil, "no weights line" end
    return state
end

local cached_version = nil
local cached_state = nil

-- The table as every worker sees it: the dict's, parsed again only after a change.
local function current()
    local dict = ngx.shared[DICT]
    local version = dict:get("version")
    if version ~= cached_version then
        local text = dict:get("state")
        cached_state = nil
        if text ~= nil then cached_state = M.parse(text) end
        cached_version = version
    end
    return cached_state
end

function M.init()
    local text = read_file(TOKEN_FILE)
    token = text and string.match(text, "^%s*(%S+)%s*$")
    if token == nil then
        ngx.log(ngx.ERR, "cutover: no control token in ", TOKEN_FILE, "; the control location refuses every request")
    end
    local dict = ngx.shared[DICT]
    -- After a reload the dict still holds the live table; only a fresh start reads the file.
    if dict:get("state") ~= nil then return end
    local saved = read_file(STATE_FILE)
    if saved == nil then return end
    local state, err = M.parse(saved)
    if state == nil then
        ngx.log(ngx.ERR, "cutover: ignoring ", STATE_FILE, ": ", err)
        return
    end
    dict:set("state", saved)
    dict:incr("version", 1, 0)
end

function M.init_worker()
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end

local function pick_slot(state)
    local header = ngx.var[PREVIEW_VARIABLE]
    -- No token, no preview: the bare slot name must never reach the idle slot.
    if header ~= nil and state.preview ~= nil and state.preview_token ~= nil then
        if header == state.preview .. ":" .. state.preview_token then
            if #state.targets[state.preview] > 0 then return state.preview end
            return nil
        end
    end
    local blue = state.weights.blue > 0 and #state.targets.blue > 0
    local green = state.weights.green > 0 and #state.targets.green > 0
    if blue and green then
        if math.random(100) <= state.weights.blue then return "blue" end
        return "green"
    end
    if blue then return "blue" end
    if green then return "green" end
    return nil
end

local next_index = { blue = 0, green = 0 }

function M.balance()
    local balancer = require("ngx.balancer")
    local ctx = ngx.ctx
    local state = current()
    if state == nil then
        ngx.log(ngx.ERR, "cutover: nginx holds no routing table yet")
        return ngx.exit(502)
    end
    local slot = ctx.cutover_slot
    if slot == nil then
        slot = pick_slot(state)
        if slot == nil then
            ngx.log(ngx.ERR, "cutover: no instance takes this request")
            return ngx.exit(502)
        end
        ctx.cutover_slot = slot
        ngx.shared[DICT]:incr("inflight:" .. slot, 1, 0)
        -- Like nginx's own round robin: a failed instance is retried on the slot's others.
        local count = #state.targets[slot]
        if count > 1 then balancer.set_more_tries(count - 1) end
    end
    local targets = state.targets[slot]
    if #targets == 0 then
        ngx.log(ngx.ERR, "cutover: slot ", slot, " has no instances any more")
        return ngx.exit(502)
    end
    next_index[slot] = next_index[slot] % #targets + 1
    local target = targets[next_index[slot]]
    local host = target.host
    -- ngx.balancer takes IPv6 addresses in brackets only.
    if string.find(host, ":", 1, true) then host = "[" .. host .. "]" end
    local ok, err = balancer.set_current_peer(host, target.port)
    if not ok then
        ngx.log(ngx.ERR, "cutover: cannot use ", target.host, ":", target.port, ": ", err)
        return ngx.exit(502)
    end
end

function M.log()
    local slot = ngx.ctx.cutover_slot
    if slot ~= nil then ngx.shared[DICT]:incr("inflight:" .. slot, -1, 0) end
end

local function answer(status, body, content_type)
    ngx.status = status
    ngx.header["Content-Type"] = content_type or "text/plain"
    ngx.say(body)
    return ngx.exit(status)
end

-- Ids and hosts passed M.parse's patterns, so they need no escaping here.
local function to_json(dict)
    local inflight = string.format('"inFlight":{"blue":%d,"green":%d}',
        dict:get("inflight:blue") or 0, dict:get("inflight:green") or 0)
    local version = dict:get("version") or 0
    local text = dict:get("state")
    local state = text and M.parse(text)
    if not state then
        return string.format('{"version":%d,"table":null,%s}', version, inflight)
    end
    local slots = {}
    for _, slot in ipairs(SLOTS) do
        local list = {}
        for i, target in ipairs(state.targets[slot]) do
            list[i] = string.format('{"id":"%s","host":"%s","port":%d}', target.id, target.host, target.port)
        end
        slots[#slots + 1] = string.format('"%s":[%s]', slot, table.concat(list, ","))
    end
    local preview = "null"
    if state.preview ~= nil then preview = '"' .. state.preview .. '"' end
    return string.format(
        '{"version":%d,"table":{"weights":{"blue":%d,"green":%d},"preview":%s,"previewTokenSet":%s,"targets":{%s}},%s}',
        version, state.weights.blue, state.weights.green, preview, tostring(state.preview_token ~= nil),
        table.concat(slots, ","), inflight)
end

function M.control()
    if token == nil then
        return answer(503, "cutover: nginx loaded no control token from " .. TOKEN_FILE)
    end
    -- Whole-string comparison; Lua offers no constant-time one, and the port is loopback-only.
    if ngx.var.http_authorization ~= "Bearer " .. token then
        return answer(401, "cutover: missing or wrong control token")
    end
    local dict = ngx.shared[DICT]
    local method = ngx.req.get_method()
    if method == "PUT" then
        ngx.req.read_body()
        local body = ngx.req.get_body_data()
        if body == nil then return answer(400, "cutover: empty table") end
        local state, err = M.parse(body)
        if state == nil then return answer(400, "cutover: " .. err) end
        local ok, set_err = dict:set("state", body)
        if not ok then return answer(507, "cutover: cannot store the table: " .. tostring(set_err)) end
        dict:incr("version", 1, 0)
    elseif method ~= "GET" then
        return answer(405, "cutover: GET or PUT")
    end
    return answer(200, to_json(dict), "application/json")
end

package.loaded[${luaString(options.module)}] = M
M.init()`;
}

/** A Lua string literal (JSON's escapes for quotes and backslashes are Lua's too). */
function luaString(value: string): string {
  if (/[\u0000-\u001f]/.test(value)) throw new Error(`cannot put control characters in Lua: ${value}`);
  return JSON.stringify(value);
}
