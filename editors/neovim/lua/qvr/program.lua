-- Which program the cursor is in: the `program_decl` node enclosing the cursor in the
-- tree-sitter tree, else the nearest `program NAME` header above the cursor, else the export.
local M = {}

local function node_text(node, bufnr)
  local row1, col1, row2, col2 = node:range()
  local lines = vim.api.nvim_buf_get_text(bufnr, row1, col1, row2, col2, {})
  return table.concat(lines, "\n")
end

--- Program name from the tree-sitter tree, or nil when there is no parser or no program here.
local function from_tree(bufnr, row, col)
  local ok, parser = pcall(vim.treesitter.get_parser, bufnr, "qvr")
  if not ok or not parser then
    return nil
  end
  local root = parser:parse()[1]:root()
  local node = root:named_descendant_for_range(row, col, row, col)
  while node do
    if node:type() == "program_decl" then
      local name = node:field("name")[1]
      return name and node_text(name, bufnr) or nil
    end
    node = node:parent()
  end
  return nil
end

--- Program name from the text: the nearest `program NAME` at the start of a line at or above
--- the cursor, or the exported name.
local function from_text(bufnr, row)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for i = row + 1, 1, -1 do
    local name = lines[i]:match("^%s*program%s+([%w_]+)")
    if name then
      return name
    end
  end
  for i = #lines, 1, -1 do
    local name = lines[i]:match("^%s*export%s+([%w_]+)%s*$") or lines[i]:match("^%s*output%s+([%w_]+)%s*$")
    if name then
      return name
    end
  end
  return nil
end

--- The entry to run for the cursor in window `win` (default: current window).
function M.at_cursor(win)
  win = win or 0
  local bufnr = vim.api.nvim_win_get_buf(win)
  local cursor = vim.api.nvim_win_get_cursor(win)
  local row, col = cursor[1] - 1, cursor[2]
  return from_tree(bufnr, row, col) or from_text(bufnr, row)
end

return M
