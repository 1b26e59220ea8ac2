-- Which entry a run command runs for the cursor: the language server's answer to qvr/entryAt
-- (the program or define around the cursor, else the export, else the only program), the same
-- rule as every other client's.
local contract = require("qvr.contract")

local M = {}

local TIMEOUT_MS = 5000

--- The qvr client attached to a buffer, or nil.
local function qvr_client(bufnr)
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "qvr" then
      return client
    end
  end
  return nil
end

--- The server's answer for the cursor in window `win` (default: current window): a table
--- { name, kind, range, selectionRange, reason, commands }, or nil and why not.
function M.entry_at(win)
  win = win or 0
  local bufnr = vim.api.nvim_win_get_buf(win)
  local client = qvr_client(bufnr)
  if not client then
    return nil, "no QVR language server attached to this buffer"
  end
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  local response, err = client.request_sync(contract.entry_at_request, params, TIMEOUT_MS, bufnr)
  if not response then
    return nil, string.format("%s failed: %s", contract.entry_at_request, tostring(err))
  end
  if response.err then
    return nil, string.format("%s failed: %s", contract.entry_at_request, response.err.message or vim.inspect(response.err))
  end
  if type(response.result) ~= "table" then
    return nil, "no program or define under the cursor, and no export or single program to run instead"
  end
  return response.result
end

--- The name of the entry to run for the cursor in window `win`, or nil and why not.
function M.at_cursor(win)
  local entry, why = M.entry_at(win)
  return entry and entry.name or nil, why
end

return M
