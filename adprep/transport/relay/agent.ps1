<#
adprep's relay for Windows PowerShell 5.1 (Windows Server 2016 and later, .NET Framework 4.6+). It speaks
the JSON lines of adprep/wire/relay.py (the contract) and only opens sockets: a hello line, then one result
line per batch line. Over WinRM, adprep's bootstrap (adprep/transport/relay/winrm.py) passes the batch
lines that came on stdin after this script as -Lines; by hand it reads stdin to EOF:
    Get-Content batch.jsonl | powershell -NoProfile -File agent.ps1
Concurrency without runspaces: each op is a small state machine over .NET 4.5's Task-based socket calls
(TcpClient.ConnectAsync, UdpClient.ReceiveAsync, NetworkStream.ReadAsync) polled by one loop, so a filtered
port costs one timeout however many ops there are (a script block cannot be a .NET callback on a pool
thread, hence polling). Windows PowerShell 5.1 syntax only, no module.
#>
param([string[]]$Lines)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1's ConvertTo-Json writes an array that carries the ETS Count property as {"value":[...],"Count":n};
# without System.Array's type data every array is written as an array.
try { Remove-TypeData -TypeName System.Array } catch { }

$Stdout = [Console]::OpenStandardOutput()
# Each op's result fields, in the contract's order (adprep/wire/relay.py); "address" is the peer's address.
$Fields = @{
    tcp = @('outcome', 'ms', 'errno', 'source', 'address')
    udp = @('outcome', 'ms', 'attempts', 'reply', 'errno', 'source', 'address')
    tcpx = @('outcome', 'ms', 'replies', 'errno', 'source', 'address')
    route = @('source')
}
$MaxReply = 1048576   # as the Python relay's MAX_REPLY: a hostile peer cannot make the relay hoard memory
# .NET's SocketError names -> the POSIX errno names the Python relay reports.
$ErrnoNames = @{ ConnectionRefused = 'ECONNREFUSED'; ConnectionReset = 'ECONNRESET'; ConnectionAborted = 'ECONNABORTED'
    TimedOut = 'ETIMEDOUT'; HostUnreachable = 'EHOSTUNREACH'; NetworkUnreachable = 'ENETUNREACH'; NetworkDown = 'ENETDOWN'
    HostDown = 'EHOSTDOWN'; AddressNotAvailable = 'EADDRNOTAVAIL'; AddressFamilyNotSupported = 'EAFNOSUPPORT'
    AccessDenied = 'EACCES'; MessageSize = 'EMSGSIZE'; HostNotFound = 'EAI_NONAME'; NoData = 'EAI_NONAME'; TryAgain = 'EAI_AGAIN' }

function Send-Line($Object) {
    # Bytes straight to stdout: neither the console code page (437 under WinRM) nor host formatting.
    $bytes = [System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json -InputObject $Object -Compress -Depth 5) + "`n")
    $Stdout.Write($bytes, 0, $bytes.Length)
    $Stdout.Flush()
}

function New-Result([string]$Kind) {
    $r = [ordered]@{}
    foreach ($f in $Fields[$Kind]) { $r[$f] = $null }
    if ($Kind -ne 'route') { $r.ms = 0 }
    if ($Kind -eq 'udp') { $r.attempts = 0 }
    return $r
}

function Find-SocketError([Exception]$Exception) {
    # The SocketException under .NET's wrappers (AggregateException, IOException, MethodInvocationException).
    $e = $Exception
    while ($null -ne $e -and -not ($e -is [System.Net.Sockets.SocketException])) { $e = $e.InnerException }
    return $e
}

function Get-Source($Socket) {
    try { return $Socket.LocalEndPoint.Address.ToString() } catch { return $null }
}

function Stop-Op($S, [string]$Outcome, $Errno) {
    $S.Done = $true
    $r = $S.Result
    $r.outcome = $Outcome
    $r.errno = $Errno
    $r.ms = [Math]::Round($S.Clock.Elapsed.TotalMilliseconds, 2)
    if ($S.Kind -eq 'tcpx') { $r.replies = $S.Replies.ToArray() }
    if ($null -ne $S.Client) { try { $S.Client.Close() } catch { } }
}

function Stop-Failed($S, [Exception]$Exception) {
    $sock = Find-SocketError $Exception
    if ($null -eq $sock) { $S.Result.detail = $Exception.Message; Stop-Op $S 'error' 'EIO'; return }
    $name = [string]$sock.SocketErrorCode
    $errno = 'WSA' + $sock.NativeErrorCode
    if ($ErrnoNames.ContainsKey($name)) { $errno = $ErrnoNames[$name] }
    if ($errno -eq 'EAI_NONAME') { $S.Result.detail = $sock.Message }
    # A connected UDP socket on Windows reports ICMP port unreachable as WSAECONNRESET on the next
    # receive (SIO_UDP_CONNRESET, set below; MS docs "WSAIoctl"): that is "refused", as ECONNREFUSED is on Linux.
    if ($S.Kind -eq 'udp' -and $errno -eq 'ECONNRESET') { $errno = 'ECONNREFUSED' }
    # Windows gave up on the SYNs (see SIO_TCP_INITIAL_RTO below): no answer, as when our own clock runs out.
    if ($S.Kind -ne 'udp' -and $errno -eq 'ETIMEDOUT' -and $null -eq $S.Stream) { Stop-Op $S 'timeout' $null; return }
    if ($errno -eq 'ECONNREFUSED') { Stop-Op $S 'refused' $errno } else { Stop-Op $S 'error' $errno }
}

function Get-FramedLength([byte[]]$B, [string]$Framing) {
    # -1: more bytes needed; -2: longer than adprep accepts; else the whole reply's length, framing included.
    if ($Framing -eq 'dcerpc') {
        # C706 12.6: frag_length (bytes 8-9, little-endian) covers a fragment; PFC_LAST_FRAG (0x02 in byte 3) ends it.
        $at = 0
        while ($true) {
            if ($B.Length - $at -lt 10) { return -1 }
            $size = $B[$at + 8] + 256 * $B[$at + 9]
            if ($size -lt 10 -or $at + $size -gt $MaxReply) { return -2 }
            if ($B.Length - $at -lt $size) { return -1 }
            $last = $B[$at + 3] -band 2
            $at += $size
            if ($last) { return $at }
        }
    }
    # u16: RFC 1035 4.2.2 (DNS over TCP); u32: RFC 4120 7.2.2 (Kerberos over TCP). Big-endian lengths.
    $head = 2
    if ($Framing -eq 'u32') { $head = 4 }
    if ($B.Length -lt $head) { return -1 }
    $size = 0
    for ($i = 0; $i -lt $head; $i++) { $size = $size * 256 + $B[$i] }
    if ($size -gt $MaxReply) { return -2 }
    return $head + $size
}

function Start-Op($S) {
    $o = $S.Op
    $S.Clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        foreach ($f in @('op', 'host')) { if ($null -eq $o.PSObject.Properties[$f]) { throw "the op has no '$f'" } }
        $S.Kind = [string]$o.op
        if ($S.Kind -eq 'route') {
            # A UDP connect only selects a route and a source address: it sends nothing.
            $S.Result = New-Result 'route'
            $S.Done = $true
            try {
                $ip = Resolve-Address ([string]$o.host)
                $u = New-Object System.Net.Sockets.UdpClient($ip.AddressFamily)
                try { $u.Connect($ip, 9); $S.Result.source = Get-Source $u.Client } finally { $u.Close() }
            } catch { }
            return
        }
        if (@('tcp', 'udp', 'tcpx') -notcontains $S.Kind) { throw "unknown op '$($S.Kind)'" }
        foreach ($f in @('port', 'timeout')) { if ($null -eq $o.PSObject.Properties[$f]) { throw "the op has no '$f'" } }
        $port = [int]$o.port
        $S.Limit = [double]$o.timeout * 1000
        if ($S.Kind -ne 'tcp') {
            if ($null -eq $o.PSObject.Properties['data'] -or $null -eq $o.data) { throw "the op has no 'data' list" }
            $S.Data = New-Object System.Collections.ArrayList
            foreach ($d in @($o.data)) { [void]$S.Data.Add([Convert]::FromBase64String([string]$d)) }
        }
        if ($S.Kind -eq 'tcpx') {
            $S.Framing = [string]$o.framing
            if (@('u16', 'u32', 'dcerpc') -notcontains $S.Framing) { throw "unknown framing '$($S.Framing)'" }
        }
    } catch {
        $S.Result = [ordered]@{ outcome = 'error'; errno = 'EINVAL'; detail = $_.Exception.Message }
        $S.Done = $true
        return
    }
    $S.Result = New-Result $S.Kind
    try {
        $ip = Resolve-Address ([string]$o.host)
        $S.Result.address = $ip.ToString()
        if ($S.Kind -eq 'udp') {
            $S.Client = New-Object System.Net.Sockets.UdpClient($ip.AddressFamily)
            # SIO_UDP_CONNRESET (0x9800000C) on, as is Windows' default: ICMP port unreachable is then reported.
            try { [void]$S.Client.Client.IOControl([int]-1744830452, [byte[]](1, 0, 0, 0), $null) } catch { }
            $S.Client.Connect($ip, $port)
            $S.Result.source = Get-Source $S.Client.Client
            $S.Interval = $S.Limit
            if ($null -ne $o.PSObject.Properties['interval'] -and $o.interval) { $S.Interval = [double]$o.interval * 1000 }
            $S.Task = $S.Client.ReceiveAsync()
            Step-Udp $S
            return
        }
        $S.Client = New-Object System.Net.Sockets.TcpClient($ip.AddressFamily)
        # Close with RST, not FIN: no TIME_WAIT pile-up when sweeping many ports.
        if ($S.Kind -eq 'tcp') { $S.Client.LingerState = New-Object System.Net.Sockets.LingerOption($true, 0) }
        else { $S.Chunk = New-Object byte[] 65536 }
        # Windows reports a refusal only once every SYN got a RST, and its SYN timer starts at 1 s, so a
        # closed port takes about 2 s to refuse and reads as "timeout" under adprep's 2 s default.
        # SIO_TCP_INITIAL_RTO (0x98000011; MS docs, Windows 8 / Server 2012 and later): one retransmission,
        # the first after 3 x RTT, the RTT set so that Windows gives up (after 9 x RTT) when our timeout ends.
        $rtt = [int][Math]::Min(65535, [Math]::Max(10, $S.Limit / 9))
        try { [void]$S.Client.Client.IOControl([int]-1744830447, [byte[]]@(($rtt -band 255), ($rtt -shr 8), 1, 0), $null) } catch { }
        $S.Task = $S.Client.ConnectAsync($ip, $port)
    } catch {
        Stop-Failed $S $_.Exception
    }
}

function Resolve-Address([string]$Name) {
    $ip = $null
    if ([System.Net.IPAddress]::TryParse($Name, [ref]$ip)) { return $ip } else { return [System.Net.Dns]::GetHostAddresses($Name)[0] }
}

function Step-Udp($S) {
    # Datagram k goes out at k x interval; the first datagram back ends it; the timeout bounds it all.
    $t = $S.Task
    if ($t.IsCompleted) {
        if ($t.IsFaulted -or $t.IsCanceled) { Stop-Failed $S $t.Exception; return }
        $S.Result.reply = [Convert]::ToBase64String($t.Result.Buffer)
        Stop-Op $S 'reply' $null
        return
    }
    $ms = $S.Clock.Elapsed.TotalMilliseconds
    if ($ms -ge $S.Limit) { Stop-Op $S 'silent' $null; return }
    if ($S.Result.attempts -lt $S.Data.Count -and $ms -ge $S.Result.attempts * $S.Interval) {
        $d = $S.Data[$S.Result.attempts]
        $S.Result.attempts += 1
        [void]$S.Client.Send($d, $d.Length)
    }
}

function Step-Tcp($S) {
    # tcp: connect, and that is all. tcpx: connect, then for each message send it and read one framed
    # reply. A peer sends nothing unasked, so bytes past a whole reply are not kept.
    $t = $S.Task
    if (-not $t.IsCompleted) {
        if ($S.Clock.Elapsed.TotalMilliseconds -ge $S.Limit) { Stop-Op $S 'timeout' $null }
        return
    }
    if ($t.IsFaulted -or $t.IsCanceled) { Stop-Failed $S $t.Exception; return }
    if ($null -eq $S.Stream) {
        $S.Result.source = Get-Source $S.Client.Client
        if ($S.Kind -eq 'tcp') { Stop-Op $S 'open' $null; return }
        $S.Stream = $S.Client.GetStream()
    } else {
        $n = $t.Result
        if ($n -eq 0) { Stop-Op $S 'closed' $null; return }
        $S.Got.Write($S.Chunk, 0, $n)
        $need = Get-FramedLength $S.Got.ToArray() $S.Framing
        if ($need -eq -2) { $S.Result.detail = 'reply longer than the relay accepts'; Stop-Op $S 'error' 'EMSGSIZE'; return }
        if ($need -eq -1 -or $S.Got.Length -lt $need) { $S.Task = $S.Stream.ReadAsync($S.Chunk, 0, $S.Chunk.Length); return }
        [void]$S.Replies.Add([Convert]::ToBase64String($S.Got.ToArray(), 0, [int]$need))
    }
    if ($S.Replies.Count -ge $S.Data.Count) { Stop-Op $S 'reply' $null; return }
    $m = $S.Data[$S.Replies.Count]
    $S.Stream.Write($m, 0, $m.Length)
    $S.Got = New-Object System.IO.MemoryStream
    $S.Task = $S.Stream.ReadAsync($S.Chunk, 0, $S.Chunk.Length)
}

function Step-Op($S) {
    try { if ($S.Kind -eq 'udp') { Step-Udp $S } else { Step-Tcp $S } }
    catch { Stop-Failed $S $_.Exception }
}

Send-Line ([ordered]@{ relay = 'adprep'; v = 1; impl = 'powershell'; version = $PSVersionTable.PSVersion.ToString(); host = [System.Net.Dns]::GetHostName() })

if ($null -eq $Lines) {
    $read = New-Object System.Collections.Generic.List[string]
    while ($null -ne ($line = [Console]::In.ReadLine())) { $read.Add($line) }
    $Lines = $read.ToArray()
}

# Every batch's ops run in the one loop (batches run concurrently, as the contract says); a batch is
# answered as soon as all of its ops are done. At most "concurrency" ops of a batch run at once.
$Batches = New-Object System.Collections.ArrayList
$Status = 0
foreach ($line in $Lines) {
    if (-not $line.Trim()) { continue }
    try {
        $b = ConvertFrom-Json -InputObject $line
        $ops = New-Object System.Collections.ArrayList
        foreach ($o in @($b.ops)) {
            [void]$ops.Add(@{ Op = $o; Kind = ''; Clock = $null; Limit = 0; Done = $false; Result = $null; Task = $null; Client = $null
                    Stream = $null; Data = $null; Interval = 0; Framing = ''; Got = $null; Chunk = $null; Replies = (New-Object System.Collections.ArrayList) })
        }
        $limit = 256
        if ($null -ne $b.PSObject.Properties['concurrency'] -and $b.concurrency) { $limit = [Math]::Max(1, [int]$b.concurrency) }
        [void]$Batches.Add(@{ Id = [int]$b.id; Ops = $ops; Limit = $limit; Next = 0; Sent = $false })
    } catch {
        [Console]::Error.WriteLine('adprep relay: a batch line that is not a JSON batch: ' + $_.Exception.Message)
        $Status = 2
    }
}

while ($true) {
    $waiting = New-Object System.Collections.Generic.List[System.Threading.Tasks.Task]
    $open = 0
    foreach ($b in $Batches) {
        if ($b.Sent) { continue }
        $running = 0
        for ($i = 0; $i -lt $b.Next; $i++) {
            $s = $b.Ops[$i]
            if (-not $s.Done) { Step-Op $s }
            if (-not $s.Done) { $running++ }
        }
        while ($running -lt $b.Limit -and $b.Next -lt $b.Ops.Count) {
            $s = $b.Ops[$b.Next]
            $b.Next++
            Start-Op $s
            if (-not $s.Done) { $running++ }
        }
        for ($i = 0; $i -lt $b.Next; $i++) {
            $s = $b.Ops[$i]
            if (-not $s.Done -and $null -ne $s.Task -and -not $s.Task.IsCompleted) { $waiting.Add($s.Task) }
        }
        if ($running -gt 0 -or $b.Next -lt $b.Ops.Count) { $open++; continue }
        $results = New-Object System.Collections.ArrayList
        foreach ($s in $b.Ops) { [void]$results.Add($s.Result) }
        Send-Line ([ordered]@{ id = $b.Id; results = $results.ToArray() })
        $b.Sent = $true
    }
    if ($open -eq 0) { break }
    # Wake on the first socket event, or after 15 ms (timeouts, the next UDP retransmission).
    if ($waiting.Count -gt 0) { [void][System.Threading.Tasks.Task]::WaitAny($waiting.ToArray(), 15) } else { Start-Sleep -Milliseconds 15 }
}
exit $Status
