%%% mod_cordon_guard: Cordon's central check inside ejabberd 23.01 (Cordon issue 17).
%%%
%%% Every message about to be delivered to a user of this host is held and Cordon's guard
%%% component is asked what to do with it; the module only applies the answer:
%%%   deliver  the message goes on with the children the guard wrote (the label re-encoded with
%%%            the policy's marking); its addresses, id and type stay the ones ejabberd routed
%%%   refuse   the error the guard built (nothing of the message in it) goes back to the sender
%%%   drop     nothing is delivered and nobody is told
%%% Every decision is Cordon's (packages/guard); nothing here reads a label. The question travels
%%% over the guard's XEP-0114 link as an IQ from this host (protocol: packages/guard/README.md).
%%%
%%% Where: the sm_receive_packet hook (ejabberd_sm:route/1) sees each message to a local user
%%% once, before delivery to its sessions and before offline storage, whatever routed it (a local
%%% client, a remote server, offline replay at login). The message is dropped from the hook and,
%%% once decided, routed again marked as decided (its meta `cordon_checked`). Carbon copies and
%%% messages from the server itself (no user part) are not asked about; messages from trusted
%%% components only for each recipient session's location (origin='component', located_by_module/3).
%%% A message a local client sends to another domain (s2s, a component) is asked about on its way
%%% out instead, in user_send_packet (below: "Messages to another domain").
%%% Fail closed: no answer within `timeout` ms, an error answer, or the guard not connected
%%% refuses the message with a `wait` error (unless `unlabelled_when_down: deliver` and the
%%% message carries no label).
-module(mod_cordon_guard).
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_options/1, mod_opt_type/1, mod_doc/0]).
-export([sm_receive_packet/1, user_send_packet/1, user_receive_packet/1, c2s_self_presence/1]).
-export([sm_withhold/1, offline_restore/1]).
-export([c2s_handle_recv/3, c2s_auth_result/3, c2s_unbinded_packet/2, c2s_handle_call/3]).
-export([process_epoch/1, decode_iq_subel/1, component_changed/1, component_changed/2]).

%% xmpp.hrl: ejabberd's XMPP records; compile with -I the include dir of the xmpp library (Debian: p1_xmpp).
-include("xmpp.hrl").

-define(NS_GUARD, <<"urn:cordon:guard:0">>).
-define(NS_LABELS, <<"urn:xmpp:sec-label:0">>).
%% Ids copied into an error of ours: at most this long (an error carries nothing unbounded).
-define(MAX_ERROR_ID, 128).

start(Host, Opts) ->
    persistent_term:erase({?MODULE, stopping, Host}),
    ejabberd_hooks:add(sm_receive_packet, Host, ?MODULE, sm_receive_packet, 10),
    %% After mod_mam (50) archived a decided message whole: what goes on to the sessions is withheld.
    ejabberd_hooks:add(sm_receive_packet, Host, ?MODULE, sm_withhold, 95),
    %% Before mod_offline (50) stores one: its content put back.
    ejabberd_hooks:add(offline_message_hook, Host, ?MODULE, offline_restore, 1),
    ejabberd_hooks:add(user_send_packet, Host, ?MODULE, user_send_packet, 0),
    %% Before mod_carboncopy (89): each session gets what the guard decided for it.
    ejabberd_hooks:add(user_receive_packet, Host, ?MODULE, user_receive_packet, 5),
    ejabberd_hooks:add(c2s_self_presence, Host, ?MODULE, c2s_self_presence, 50),
    %% Before mod_stream_mgmt (50) resumes a session.
    ejabberd_hooks:add(c2s_unbinded_packet, Host, ?MODULE, c2s_unbinded_packet, 40),
    %% In the hibernated session's process, before mod_stream_mgmt (50) hands it over.
    ejabberd_hooks:add(c2s_handle_call, Host, ?MODULE, c2s_handle_call, 40),
    cache_start(Host),
    access_start(Host, Opts).

%% No new message is taken first, and no answer applied from now on (answered_if_loaded/3); what is
%% parked is refused (cache_stop/1); each session's form is applied until last. A decided message
%% still on its way to a session (in its process's queue) when the last hook goes carries nothing of
%% its content (withheld/1): the session gets no form it may not have.
%% (The hooks go in this order: a hook run already begun keeps its list, so one that restored a
%% message's content at 10 withholds it again at 95.)
stop(Host) ->
    persistent_term:put({?MODULE, stopping, Host}, true),
    ejabberd_hooks:delete(sm_receive_packet, Host, ?MODULE, sm_receive_packet, 10),
    ejabberd_hooks:delete(user_send_packet, Host, ?MODULE, user_send_packet, 0),
    ejabberd_hooks:delete(c2s_self_presence, Host, ?MODULE, c2s_self_presence, 50),
    ejabberd_hooks:delete(c2s_unbinded_packet, Host, ?MODULE, c2s_unbinded_packet, 40),
    ejabberd_hooks:delete(c2s_handle_call, Host, ?MODULE, c2s_handle_call, 40),
    cache_stop(Host),
    access_stop(Host),
    ejabberd_hooks:delete(sm_receive_packet, Host, ?MODULE, sm_withhold, 95),
    ejabberd_hooks:delete(offline_message_hook, Host, ?MODULE, offline_restore, 1),
    ejabberd_hooks:delete(user_receive_packet, Host, ?MODULE, user_receive_packet, 5).

%% The access check's hooks follow `access_check` (the other options are read when used).
reload(Host, NewOpts, _OldOpts) ->
    access_stop(Host),
    access_start(Host, NewOpts).

depends(_Host, _Opts) -> [].

mod_opt_type(component) -> econf:domain();
mod_opt_type(timeout) -> econf:pos_int();
mod_opt_type(cache_ttl) -> econf:non_neg_int();
mod_opt_type(trusted_components) -> econf:list(econf:domain());
mod_opt_type(unlabelled_when_down) -> econf:enum([refuse, deliver]);
mod_opt_type(access_check) -> econf:bool();
mod_opt_type(report_interval) -> econf:pos_int();
mod_opt_type(outbound_unasked) -> econf:list(econf:domain());
mod_opt_type(inbound_unasked) -> econf:list(econf:domain()).

mod_options(Host) ->
    [{component, <<"guard.", Host/binary>>},
     {timeout, 2000},
     {cache_ttl, 2000},
     {trusted_components, []},
     {unlabelled_when_down, refuse},
     {access_check, false},
     {report_interval, 5000},
     {outbound_unasked, []},
     {inbound_unasked, []}].

mod_doc() -> #{desc => ["Cordon's central check: every message to a local user is decided by "
                        "Cordon's guard component (see Cordon's packages/guard/README.md)."]}.

%% ejabberd's bounce of a message this module decided (its meta says so): mod_stream_mgmt's "User
%% session terminated" for what a session ended unresumed had not acknowledged (a refused
%% resumption: guard-access RS4), ejabberd_sm's for a resource gone meanwhile. ejabberd copies the
%% message into its errors; labelled, the guard would drop it and the sender never hear. Sent on
%% with nothing of the message but the error and a short id (as refuse/2 builds ours).
sm_receive_packet(#message{type = error, meta = #{cordon_forms := _}} = Msg) ->
    Bare = Msg#message{subject = [], body = [], thread = undefined,
                       sub_els = [E || #stanza_error{} = E <- Msg#message.sub_els], meta = #{}},
    xmpp:put_meta(short_id(Bare), cordon_checked, true);
%% The hook: a message is held (dropped here) and routed again once decided.
sm_receive_packet(#message{to = #jid{lserver = Host}} = Msg) ->
    case xmpp:get_meta(Msg, cordon_checked, false) orelse xmpp:get_meta(Msg, carbon_copy, false) of
        true -> restored(Msg);
        false ->
            case archive_result(Msg) of
                true -> archive_check(Host, Msg);
                false ->
                    case origin(Host, Msg) of
                        skip -> Msg;
                        Origin -> ask(Host, Origin, Msg)
                    end
            end
    end;
%% A presence or IQ that may carry a label (Cordon issue 17, F3: packages/guard/src/
%% labelled-payload.ts): asked about, delivered only if the guard finds nothing labelled in it.
%% Every other one goes on unasked.
sm_receive_packet(#presence{to = #jid{lserver = Host}} = Pkt) -> payload_check(Host, Pkt);
sm_receive_packet(#iq{to = #jid{lserver = Host}} = Pkt) -> payload_check(Host, Pkt);
sm_receive_packet(Packet) -> Packet.

%% Archive results (XEP-0313 §4.2; packages/guard/src/archive-result.ts): a user's own archive
%% never hands them what their clearance does not grant now. mod_mam routes each result from the
%% user's bare JID to the asking session before it answers the query: each is decided here, in the
%% routing process, waiting for the guard (so the results keep their order and precede the
%% answer) — delivered as the guard rewrote it, or dropped (also when the guard does not answer).
-define(NS_MAM, <<"urn:xmpp:mam:2">>).

archive_result(#message{from = #jid{luser = U, lserver = S, lresource = <<>>},
                        to = #jid{luser = U, lserver = S}} = Msg) when U /= <<>> ->
    fxml:get_subtag_with_xmlns(xmpp:encode(Msg, ?NS_CLIENT), <<"result">>, ?NS_MAM) /= false;
archive_result(_) -> false.

archive_check(Host, Msg) ->
    #jid{luser = U, lserver = S, lresource = R} = xmpp:get_to(Msg),
    Info = case ejabberd_sm:get_user_info(U, S, R) of
               offline -> [];
               I -> I
           end,
    Embedded = xmpp:encode(Msg, ?NS_CLIENT),
    #xmlel{attrs = Attrs} = Embedded,
    Check = #xmlel{name = <<"check">>,
                   attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, <<"c2s">>}, {<<"archive">>, <<"1">>}],
                   children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]},
                               session_el(Host, R, Info)]},
    IQ = #iq{type = get, id = p1_rand:get_string(),
             from = jid:make(Host), to = jid:make(opt(Host, component)), sub_els = [Check]},
    Self = self(),
    Ref = make_ref(),
    Timeout = opt(Host, timeout),
    ejabberd_router:route_iq(IQ, fun(Answer) -> Self ! {cordon_archive, Ref, Answer} end, undefined, Timeout),
    receive
        {cordon_archive, Ref, #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]}} ->
            case {fxml:get_tag_attr_s(<<"action">>, Verdict),
                  fxml:get_subtag_with_xmlns(Verdict, <<"message">>, ?NS_CLIENT)} of
                {<<"deliver">>, #xmlel{} = El} ->
                    try xmpp:decode(El, ?NS_CLIENT, [ignore_els]) of
                        #message{sub_els = Els} -> xmpp:put_meta(Msg#message{sub_els = Els}, cordon_checked, true);
                        _ -> {stop, drop}
                    catch _:_ -> {stop, drop}
                    end;
                _ -> {stop, drop}
            end;
        {cordon_archive, Ref, _} -> {stop, drop}
    after Timeout + 500 -> {stop, drop}
    end.

payload_check(Host, Pkt) ->
    case xmpp:get_meta(Pkt, cordon_checked, false) of
        true -> Pkt;
        false ->
            case payload_origin(Host, Pkt) of
                skip -> Pkt;
                Origin ->
                    case may_carry_label(xmpp:encode(Pkt, ?NS_CLIENT), 0) of
                        false -> Pkt;
                        true -> ask_payload(Host, Origin, Pkt), {stop, drop}
                    end
            end
    end.

payload_origin(Host, Pkt) ->
    case xmpp:get_from(Pkt) of
        #jid{luser = User, lserver = From} ->
            IsLocal = lists:member(From, ejabberd_option:hosts()),
            if IsLocal andalso User == <<>> -> skip;
               IsLocal -> <<"c2s">>;
               true ->
                   %% One a trusted component delivers (review adv17d: the relay lets a labelled
                   %% IQ cross): origin='component' with the recipient's sessions, unless the
                   %% component locates them itself (inbound_unasked).
                   case lists:member(From, opt(Host, trusted_components)) of
                       true ->
                           %% Only one with a label of its own (nothing else to locate: the
                           %% component decided its payload; a catalog's result carries labels
                           %% as its items).
                           Labelled = fun() ->
                                              lists:any(fun(#xmlel{name = N}) ->
                                                                N == <<"securitylabel">> orelse
                                                                    binary:longest_common_suffix([N, <<":securitylabel">>]) == 14;
                                                           (_) -> false
                                                        end, (xmpp:encode(Pkt, ?NS_CLIENT))#xmlel.children)
                                      end,
                           case not lists:member(From, opt(Host, inbound_unasked)) andalso Labelled() of
                               false -> skip;
                               true -> <<"component">>
                           end;
                       false -> <<"s2s">>
                   end
            end;
        _ -> skip
    end.

%% The recipient's sessions a trusted component's presence or IQ may reach: the full JID's own, or
%% every session of the bare JID (also a full JID without a session: fail closed).
payload_sessions(Host, <<"component">>, Pkt) ->
    #jid{luser = U, lserver = S, lresource = R} = xmpp:get_to(Pkt),
    case R /= <<>> andalso ejabberd_sm:get_user_info(U, S, R) of
        Info when is_list(Info) -> [session_el(Host, R, Info)];
        _ -> [session_el(Host, R1, Info) || {R1, Info} <- ejabberd_sm:get_user_info(U, S)]
    end;
payload_sessions(_Host, _Origin, _Pkt) -> [].

ask_payload(Host, Origin, Pkt) ->
    Embedded = xmpp:encode(Pkt, ?NS_CLIENT),
    #xmlel{attrs = Attrs} = Embedded,
    Check = #xmlel{name = <<"check">>,
                   attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, Origin}],
                   children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]}
                               | payload_sessions(Host, Origin, Pkt)]},
    IQ = #iq{type = get, id = p1_rand:get_string(),
             from = jid:make(Host), to = jid:make(opt(Host, component)), sub_els = [Check]},
    ejabberd_router:route_iq(IQ, fun(Answer) -> payload_answered(Pkt, Answer) end, undefined,
                             opt(Host, timeout)).

payload_answered(Pkt, #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]}) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict)} of
        {?NS_GUARD, <<"deliver">>} -> ejabberd_sm:route(xmpp:put_meta(Pkt, cordon_checked, true));
        {?NS_GUARD, <<"refuse">>} ->
            case fxml:get_subtag_with_xmlns(Verdict, xmpp:get_name(Pkt), ?NS_CLIENT) of
                false -> ok;
                El ->
                    try xmpp:decode(El, ?NS_CLIENT, [ignore_els]) of
                        Error -> silent(Pkt) orelse ejabberd_router:route(xmpp:put_meta(Error, cordon_checked, true))
                    catch _:_ -> ok
                    end
            end;
        _ -> ok
    end;
%% No decision (an error answer, a timeout, the guard not connected): refused with `wait`.
payload_answered(Pkt, _) ->
    case silent(Pkt) of
        true -> ok;
        false ->
            Error = xmpp:make_error(emptied(Pkt),
                                    #stanza_error{type = wait, reason = 'internal-server-error'}),
            ejabberd_router:route(xmpp:put_meta(Error, cordon_checked, true))
    end.

%% The stanza with nothing the sender chose but its addresses and a short id (an error of ours).
emptied(#presence{} = P) -> short_id(P#presence{status = [], show = undefined, priority = undefined, sub_els = []});
emptied(Pkt) -> short_id(xmpp:set_els(Pkt, [])).

short_id(Pkt) ->
    case byte_size(xmpp:get_id(Pkt)) =< ?MAX_ERROR_ID of
        true -> Pkt;
        false -> xmpp:set_id(Pkt, <<>>)
    end.

%% An error or an IQ result is never answered.
silent(Pkt) ->
    case xmpp:get_type(Pkt) of
        error -> true;
        result -> true;
        _ -> false
    end.

%% Every message a local client sends is marked (its meta `cordon_from_client`): a PEP
%% notification is skipped below, and a client must not get its own message skipped by adding an
%% <event xmlns='http://jabber.org/protocol/pubsub#event'/> child to it.
%% The sending session's address goes with it (its meta `cordon_sender_ip`, the <check/>'s `ip`
%% attribute as sender_ip/1 builds it from ejabberd_sm, formatted once per session and kept in its
%% state): no session table read per message (issue 17 bench, unlabelled cached path).
user_send_packet({#message{} = Msg, State}) ->
    {Ip, State1} = own_ip(State),
    outbound({xmpp:put_meta(xmpp:put_meta(Msg, cordon_from_client, true), cordon_sender_ip, Ip), State1});
user_send_packet({Pkt, _} = Acc) when is_record(Pkt, presence); is_record(Pkt, iq) -> outbound_payload(Acc);
user_send_packet(Acc) -> Acc.

%% The session's address as the `ip` attribute (the address ejabberd_sm keeps for it: the
%% session's `ip` when it opened), remembered while the address stays the same.
own_ip(#{ip := {IP, _Port}} = State) ->
    case State of
        #{cordon_ip := {IP, Attr}} -> {Attr, State};
        _ ->
            Attr = [{<<"ip">>, list_to_binary(inet:ntoa(IP))}],
            {Attr, State#{cordon_ip => {IP, Attr}}}
    end;
own_ip(State) -> {[], State}.

%% c2s: a user of this host; s2s: another domain (a remote server, or a component other than
%% Cordon's own); skip: the server itself and what it generates (PEP notifications), trusted
%% components.
origin(Host, #message{from = #jid{luser = User, lserver = From}} = Msg) ->
    Trusted = opt(Host, trusted_components),
    IsLocal = lists:member(From, ejabberd_option:hosts()),
    %% A PEP notification: a headline (mod_offline never stores one, so no replay loses the mark)
    %% with an event, not sent by a client.
    PubsubEvent = Msg#message.type == headline
        andalso xmpp:has_subtag(Msg, #ps_event{})
        andalso not xmpp:get_meta(Msg, cordon_from_client, false),
    if IsLocal andalso User == <<>> -> skip;
       IsLocal andalso PubsubEvent -> skip;
       IsLocal -> <<"c2s">>;
       true ->
           case lists:member(From, Trusted) of
               true -> located_by_module(Host, From, Msg);
               false -> <<"s2s">>
           end
    end.

%% Issue 17, inbound across the relay: a message one of the trusted components delivers to a local
%% user is asked about with origin='component' — the guard decides only each recipient session's
%% client location on the label the component put (packages/guard/src/component-delivery.ts), so a
%% session at a site its label is not granted gets nothing of what Cordon's relay brings from a peer
%% domain. Not asked (skip): a component listed in `inbound_unasked`, one that locates the
%% recipient's sessions itself (Cordon's MUC: packages/muc/src/security/occupant-location.ts).
%% (Presences and IQs from trusted components stay unasked: payload_origin/2.)
%% An error message that can carry no label (the relay's carry their addressing and condition
%% alone) has nothing to locate: not asked (a decided error would be taken for ejabberd's bounce).
located_by_module(Host, From, Msg) ->
    case lists:member(From, opt(Host, inbound_unasked)) orelse
        (Msg#message.type == error andalso not may_carry_label(xmpp:encode(Msg, ?NS_CLIENT), 0)) of
        true -> skip;
        false -> <<"component">>
    end.

ask(Host, Origin, Msg0) ->
    %% The hold starts (latency measurement, below): when first taken — a parked message asked
    %% about later keeps its own start.
    Taken = case xmpp:get_meta(Msg0, cordon_taken, undefined) of
                undefined -> erlang:monotonic_time();
                T -> T
            end,
    Msg = xmpp:put_meta(Msg0, cordon_taken, Taken),
    Embedded = xmpp:encode(Msg, ?NS_CLIENT),
    #xmlel{attrs = Attrs} = Embedded,
    #jid{luser = ToUser, lserver = ToServer} = xmpp:get_to(Msg),
    Sessions = ejabberd_sm:get_user_info(ToUser, ToServer),
    %% A stored message replayed at login (mod_offline routes it from the recipient's own session
    %% process): only that session is asked about, and it stays stored if that session may not have it.
    Replay = (Origin == <<"c2s">> orelse Origin == <<"component">>) andalso replaying(Msg, Sessions),
    Listed = case Replay of
                 false -> Sessions;
                 {true, Own} -> [Own]
             end,
    SenderIp = case Origin of
                   <<"c2s">> when Replay == false ->
                       case xmpp:get_meta(Msg, cordon_sender_ip, undefined) of
                           undefined -> sender_ip(xmpp:get_from(Msg));
                           Ip -> Ip
                       end;
                   _ -> []
               end,
    SessionEls = [session_el(Host, R, Info) || {R, Info} <- Listed],
    %% The session each listed resource is (its process): a resource names a session only until it ends.
    AskedPids = maps:from_list([{R, proplists:get_value(pid, Info)} || {R, Info} <- Listed]),
    Key = case Replay of
              false -> cache_key(Host, Origin, Embedded, SenderIp, SessionEls);
              _ -> none
          end,
    %% RFC 6120 §10.1: a sender's messages are delivered in order. A cached verdict is used only
    %% when none of this sender's earlier messages is still being asked about (it would overtake
    %% them: guard-cache-attack C5); otherwise the guard is asked, behind them.
    Sender = jid:tolower(xmpp:get_from(Msg)),
    Cached = case in_flight(Host, Sender) of
                 true -> none;
                 false -> cached_verdict(Host, Key)
             end,
    %% Single flight: a question with this key already out, and all of this sender's messages in
    %% flight waiting on it → this one waits for that answer too (parked), instead of asking.
    %% (The flight is landed with the owner that granted it: owner/1.)
    Owner = owner(Host),
    Flight = case Cached of
                 {ok, _} -> none;
                 none when Key == none -> ask;
                 none ->
                     case xmpp:get_meta(Msg, cordon_no_flight, false) of
                         true -> ask;
                         false -> flight(Owner, Key, Sender, {Origin, Msg, AskedPids})
                     end
             end,
    Usable = case {Cached, Flight} of
                 {{ok, E}, _} -> {ok, E};
                 %% (The owner found nothing of the sender in flight any more and the verdict kept:
                 %% the flight it waited on landed meanwhile, its parked messages handed on.)
                 {none, {cached, E}} -> {ok, E};
                 _ -> none
             end,
    case {Usable, Flight} of
        {{ok, Entry}, _} ->
            %% Served from the verdict cache: delivered now, in this very hook (no second routing).
            refresh_ahead(Host, Key, Entry, Msg, AskedPids,
                          fun() -> check_el(Origin, SenderIp, Replay, Embedded, Attrs, SessionEls) end),
            Served = apply_cached(Msg, Entry, AskedPids),
            held(Host, hold_cached, Taken),
            Served;
        {none, park} ->
            %% (Counted in flight by the owner when parked, so a landing flight cannot count it down first.)
            {stop, drop};
        {none, refuse} ->
            %% Past this sender's bound of parked messages (single flight, below): told to try again.
            refuse(Msg, #stanza_error{type = wait, reason = 'resource-constraint'}),
            held(Host, hold_asked, Taken),
            {stop, drop};
        {none, _} ->
            Check = check_el(Origin, SenderIp, Replay, Embedded, Attrs, SessionEls),
            IQ = #iq{type = get, id = p1_rand:get_string(),
                     from = jid:make(Host), to = jid:make(opt(Host, component)),
                     sub_els = [Check]},
            Asked = xmpp:put_meta(Msg, cordon_asked, AskedPids),
            Held0 = case Replay of
                        false -> Asked;
                        _ -> xmpp:put_meta(Asked, cordon_replay, true)
                    end,
            Held = case Key of
                       none -> Held0;
                       _ -> xmpp:put_meta(Held0, cordon_cache_key, Key)
                   end,
            %% (A flight's question is counted in flight by the owner, and counted down by it when
            %% it lands: land/5.)
            Flight == fly orelse asking(Host, Sender),
            %% (Counted down in the very table it was counted in: after a restart, the new instance's
            %% table counts the new instance's messages only — e2e guard-cache-renew-attack RA4.)
            Counts = catch ets:whereis(cache_table(Host)),
            AskedAt = erlang:monotonic_time(),
            %% (Counted down once the decided message is routed on, or refused: nothing of the
            %% sender's served from the cache before it.)
            ejabberd_router:route_iq(IQ, fun(Answer) ->
                                                 is_record(Answer, iq) andalso held(Host, round_trip, AskedAt),
                                                 try answered_if_loaded(Host, Held, Answer)
                                                 after
                                                     held(Host, hold_asked, Taken),
                                                     case Flight of
                                                         fly -> land(Host, Owner, Key, Sender, true);
                                                         _ -> asked_in(Counts, Sender)
                                                     end
                                                 end
                                         end, undefined, opt(Host, timeout)),
            {stop, drop}
    end.

%% The question about a message (compact: the guard may answer with the labels alone).
check_el(Origin, SenderIp, Replay, Embedded, Attrs, SessionEls) ->
    #xmlel{name = <<"check">>,
           attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, Origin}, {<<"compact">>, <<"1">>}]
                   ++ SenderIp
                   ++ [{<<"offline">>, <<"1">>} || Replay /= false],
           children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]} | SessionEls]}.

%% Whether this process is one of the recipient's sessions and the message is not that user's own
%% (their messages to themselves come from their own sessions too): mod_offline replaying it.
replaying(#message{from = #jid{luser = FU, lserver = FS}, to = #jid{luser = TU, lserver = TS}}, Sessions) ->
    case {FU, FS} == {TU, TS} of
        true -> false;
        false ->
            Self = self(),
            case [S || {_, Info} = S <- Sessions, proplists:get_value(pid, Info) == Self] of
                [Own | _] -> {true, Own};
                [] -> false
            end
    end.

sender_ip(#jid{luser = U, lserver = S, lresource = R}) ->
    case ejabberd_sm:get_user_ip(U, S, R) of
        {IP, _Port} -> [{<<"ip">>, list_to_binary(inet:ntoa(IP))}];
        _ -> []
    end.

%% One session of the recipient: its resource, address and whether its client advertised labels
%% (XEP-0115 caps as mod_caps resolved them; unknown yet: label-unaware, FLOT shows the marking).
session_el(Host, Resource, Info) ->
    Ip = case proplists:get_value(ip, Info) of
             {IP, _Port} -> [{<<"ip">>, list_to_binary(inet:ntoa(IP))}];
             _ -> []
         end,
    Labels = case proplists:get_value(cordon_caps, Info) of
                 undefined -> <<"0">>;
                 Caps ->
                     case catch lists:member(?NS_LABELS, mod_caps:get_features(Host, Caps)) of
                         true -> <<"1">>;
                         _ -> <<"0">>
                     end
             end,
    #xmlel{name = <<"session">>,
           attrs = [{<<"resource">>, Resource}, {<<"labels">>, Labels} | Ip]}.

%% A session's own presence: its caps (XEP-0115) kept in its session info, read when a message is
%% decided for it (mod_caps resolves the features; no call into any session process).
c2s_self_presence({#presence{type = available} = Pres, #{user := U, server := S, resource := R} = State}) ->
    case catch mod_caps:read_caps(Pres) of
        #caps{} = Caps -> ejabberd_sm:set_user_info(U, S, R, cordon_caps, Caps);
        _ -> ok
    end,
    {Pres, State};
c2s_self_presence(Acc) -> Acc.

%% XEP-0198 §5 resumption (mod_stream_mgmt, in the c2s_unbinded_packet hook before it).
%% With `access_check`, resumption is a login too: the user's clearance may have been lowered (or
%% the access label changed) since the session bound, so the guard is asked again first, here in
%% the new connection's process, before mod_stream_mgmt (50) answers <resumed/> and resends the
%% unacknowledged stanzas (XEP-0198 §5: both happen before its c2s_session_resumed hook runs, too
%% late to keep anything from the client). Not allowed — denied, or no decision (the guard not
%% connected, an error answer, no answer in `timeout`: fail closed) — the stream ends with a
%% <policy-violation/> stream error (RFC 6120 §4.9.3.14), nothing resumed or resent, and the
%% hibernated session is ended (its unacknowledged stanzas go where ejabberd sends a lost
%% session's: offline storage, checked again when replayed).
c2s_unbinded_packet(#{user := U, lserver := S} = State, #sm_resume{previd = PrevID} = Resume) ->
    Allowed = case opt(S, access_check) of
                  true -> access_allowed(S, U);
                  false -> true
              end,
    case Allowed of
        true ->
            case resume_location(State, Resume) of
                {stop, _} = Stopped -> Stopped;
                State1 -> resume_replay(State1, Resume)
            end;
        {false, Why} ->
            error_logger:warning_msg("Stream resumption of ~ts@~ts refused by Cordon's access check (~p)~n",
                                     [U, S, Why]),
            case catch misc:base64_to_term(PrevID) of
                {term, {R, _}} when is_binary(R) ->
                    case ejabberd_sm:get_session_sid(U, S, R) of
                        {_, OldPid} -> ejabberd_c2s:stop_async(OldPid);
                        _ -> ok
                    end;
                _ -> ok
            end,
            Lang = maps:get(lang, State, <<"en">>),
            {stop, xmpp_stream_in:send(State, xmpp:serr_policy_violation(<<"Access denied by service policy">>, Lang))}
    end;
c2s_unbinded_packet(State, _Pkt) -> State.

%% The session's queue holds what was decided for its address (its client
%% location, packages/guard/src/client-location.ts); resumed from another address, it would be
%% handed there. Refused (`item-not-found`, as for an unknown session): the client binds afresh and
%% what was not acknowledged goes where ejabberd sends a lost session's stanzas (none unchecked to it).
resume_location(#{user := U, lserver := S, ip := {NewIP, _}} = State, #sm_resume{previd = PrevID, xmlns = Xmlns}) ->
    case catch misc:base64_to_term(PrevID) of
        {term, {R, _}} when is_binary(R) ->
            case ejabberd_sm:get_user_ip(U, S, R) of
                {OldIP, _} when OldIP /= NewIP ->
                    {stop, xmpp_stream_in:send(State, #sm_failed{reason = 'item-not-found', xmlns = Xmlns})};
                _ -> State
            end;
        _ -> State
    end;
resume_location(State, _Resume) -> State.

%% What a hibernated session queued (mod_stream_mgmt's mgmt_queue) was decided for the clearance its
%% user had then (user_receive_packet/1, as it was queued); resent on resumption (XEP-0198 §5) it
%% is a delivery now, and the clearance may have been lowered meanwhile (still granting the access
%% label, or with `access_check` off): Cordon issue 17 — what is delivered to a user is what their
%% current clearance grants. Decisions are the guard's, so a queued message is not decided again
%% here: a resumption whose queue still holds a message the client has not acknowledged (the `h` of
%% its <resume/>, as mod_stream_mgmt drops what it acknowledges: mgmt_queue_drop) is refused with
%% <failed><not-allowed/> (XEP-0198 §5; as Prosody's module answers), and the hibernated session is
%% ended: mod_stream_mgmt sends what it had not acknowledged where it sends a lost session's
%% (bounced to the sender with nothing of the message — sm_receive_packet/1 — or, with
%% `resend_on_timeout`, offline storage, decided again when delivered). The client binds afresh.
%% A resumption with nothing unacknowledged to resend (presences, IQs only) goes on.
%% The queue is read in the hibernated session's own process (c2s_handle_call/3), which ends itself
%% there when it refuses: a second resumption racing this one is answered after it, and refused.
%% Fail closed: no answer from that process within `timeout` — refused; the process gone — left
%% to mod_stream_mgmt (`item-not-found`). (guard-access RS6.)
-define(UNACKED_CALL, cordon_unacked_messages).

resume_replay(#{user := U, lserver := S} = State, #sm_resume{previd = PrevID, h = H, xmlns = Xmlns}) ->
    case catch misc:base64_to_term(PrevID) of
        {term, {R, MgmtID}} when is_binary(R) ->
            case ejabberd_sm:get_session_sid(U, S, R) of
                {_, OldPid} ->
                    case catch ejabberd_c2s:call(OldPid, {?UNACKED_CALL, MgmtID, H}, opt(S, timeout)) of
                        none -> State;
                        unknown -> State;
                        {'EXIT', {Gone, _}} when Gone == noproc; Gone == normal; Gone == shutdown; Gone == killed ->
                            State;
                        Other ->
                            InH = case Other of
                                      {refused, N} when is_integer(N) -> N;
                                      _ -> undefined
                                  end,
                            error_logger:warning_msg("Stream resumption of ~ts@~ts refused: messages queued while "
                                                     "it slept are decided again (~p)~n",
                                                     [U, S, Other]),
                            {stop, xmpp_stream_in:send(State, #sm_failed{reason = 'not-allowed', h = InH,
                                                                          xmlns = Xmlns})}
                    end;
                _ -> State
            end;
        _ -> State
    end.

%% In the hibernated session's process (resume_replay/2): does its queue hold a message the client
%% has not acknowledged (numbered past `H`)? If so it answers `{refused, H}` (what it handled, for
%% <failed h=''/>) and, hibernated, ends itself (mod_stream_mgmt's c2s_terminated routes the queue).
%% A session with another stream-management id answers `unknown`, as mod_stream_mgmt then fails it.
c2s_handle_call(#{mgmt_id := MgmtID, mgmt_queue := Queue, mod := Mod} = State,
                {?UNACKED_CALL, MgmtID, H}, From) ->
    Unacked = p1_queue:foldl(fun({N, _Time, Pkt}, Acc) -> Acc orelse (N > H andalso is_message(Pkt)) end,
                             false, Queue),
    case Unacked of
        true ->
            Mod:reply(From, {refused, maps:get(mgmt_stanzas_in, State, 0)}),
            case maps:get(mgmt_state, State, undefined) of
                pending -> Mod:stop_async(self());
                _ -> ok
            end;
        false -> Mod:reply(From, none)
    end,
    {stop, State};
c2s_handle_call(#{mod := Mod} = State, {?UNACKED_CALL, _, _}, From) ->
    Mod:reply(From, unknown),
    {stop, State};
c2s_handle_call(State, _Call, _From) -> State.

is_message(#message{}) -> true;
is_message(#xmlel{name = <<"message">>}) -> true;
is_message(_) -> false.

%%% ================================ Messages to another domain (outbound; Cordon issue 17) ======
%%% A message a session of this host sends to another domain — a remote server (s2s), a component
%%% (a peer domain Cordon's relay claims, any other component) — never reaches sm_receive_packet on a
%%% guarded host, so the delivery check never sees it (review adv16b: a session at an
%%% UNCLASSIFIED-only location could send SECRET to a remote user). It is asked about here, on its
%%% way out (packages/guard/src/outbound.ts): in user_send_packet (ejabberd_c2s, in the sending
%%% session's own process, for each stanza the client sends, before ejabberd routes it), at 0 —
%%% before mod_mam (88) archives it and mod_carboncopy (89) copies it. The sender's other sessions
%%% are listed as <copy/>: each sent carbon (XEP-0280 §6) gets the form decided in the same answer
%%% (user_receive_packet reads it from the forwarded copy's meta — no second question).
%%%   outbound='peer'       the destination's outbound peer clearance bounds the label; the message
%%%                         goes on with the policy's label and marking
%%%   outbound='component'  a trusted component (trusted_components: Cordon's relay, MUC, catalog):
%%%                         the sender side only — sender's and server's clearances, the session's
%%%                         location — and the message goes on as written (that component decides
%%%                         its label and the destination)
%%% Not asked: a message to this host or to another host of this node loading this module (decided
%%% on delivery there), and to a trusted component listed in `outbound_unasked` (one that applies
%%% the client-location rule to the sending session itself — Cordon's MUC with client locations configured).
%%% Waiting: in the session's process (a hook that returns the message lets ejabberd route it, so
%%% the wait keeps the session's stanzas in the order they came, RFC 6120 §10.1); no verdict cache.
%%% Fail closed: no answer within `timeout`, an error answer, the guard not connected → refused with
%%% `wait` (RFC 6120 §8.3.2), nothing of the message in the error (refuse/2).
outbound({#message{to = #jid{lserver = To}} = Msg, #{lserver := Host} = State} = Acc) ->
    case addressed_elsewhere(Host, Msg, State) of
        ok ->
            case outbound_of(Host, To) of
                skip -> Acc;
                Dest -> outbound_check(Host, Dest, Msg, State)
            end;
        Stop -> Stop
    end;
outbound(Acc) -> Acc.

%% XEP-0033 extended addressing (review adv17a, A4): a multicast service — ejabberd's mod_multicast,
%% or a remote server's — sends the message on to each <address/>, so a message asked about for
%% its `to` alone (the service's domain) reached a domain with no clearance of its own. Each address
%% at another domain that is not decided where it is delivered (outbound_of/2 = peer) is asked about
%% as the destination of the message, before the message itself: all must be granted (the sender
%% gets the first refusal, from that address). At most ?MAX_ADDRESSED_DOMAINS such domains (else
%% refused `not-acceptable`, nothing of it in the error).
-define(MAX_ADDRESSED_DOMAINS, 16).
addressed_elsewhere(Host, #message{sub_els = Els} = Msg, State) ->
    %% (A message without one costs a look at its top-level names: a client's are not decoded yet.)
    case lists:any(fun(#xmlel{name = N}) -> N == <<"addresses">>; (E) -> is_record(E, addresses) end, Els) of
        true -> ask_addresses(Host, Msg, State);
        false -> ok
    end.

ask_addresses(Host, #message{to = #jid{lserver = To}} = Msg, State) ->
    Jids = [J || #xmlel{name = <<"addresses">>} = A <- [xmpp:encode(E, ?NS_CLIENT) || E <- Msg#message.sub_els],
                 fxml:get_tag_attr_s(<<"xmlns">>, A) == ?NS_ADDRESS,
                 #xmlel{name = <<"address">>} = Ad <- A#xmlel.children,
                 J <- [fxml:get_tag_attr_s(<<"jid">>, Ad)], J /= <<>>],
    Parsed = [try jid:decode(J) catch _:_ -> error end || J <- Jids],
    %% (One address per domain: the first, whose JID the refusal comes from.)
    Domains = lists:ukeysort(1, [{D, A} || #jid{lserver = D} = A <- Parsed, D /= To,
                                           outbound_of(Host, D) == <<"peer">>]),
    case lists:member(error, Parsed) orelse length(Domains) > ?MAX_ADDRESSED_DOMAINS of
        true ->
            refuse(Msg, #stanza_error{type = modify, reason = 'not-acceptable'}),
            {stop, {drop, State}};
        false -> ask_addressed(Host, Msg, State, [A || {_, A} <- Domains])
    end.

ask_addressed(_Host, _Msg, _State, []) -> ok;
ask_addressed(Host, Msg, State, [A | Rest]) ->
    case outbound_check(Host, <<"peer">>, Msg#message{to = A}, State) of
        {stop, _} = Stop -> Stop;
        _ -> ask_addressed(Host, Msg, State, Rest)
    end.

outbound_of(Host, Host) -> skip;
outbound_of(Host, To) ->
    case lists:member(To, ejabberd_option:hosts()) of
        true ->
            case gen_mod:is_loaded(To, ?MODULE) of
                true -> skip;
                false -> <<"peer">>
            end;
        false ->
            %% A trusted component's domain is that component's only while it is connected (its route
            %% registered, ejabberd_router:is_my_route/1): with none, ejabberd sends the message on by
            %% s2s — a relay-claimed domain to the peer itself, past the relay (review adv17a) — so it
            %% is then decided as any other domain's (its outbound peer clearance). Prosody bounces a
            %% configured component host while it is away: nothing to do there.
            Connected = (catch ejabberd_router:is_my_route(To)) == true,
            case {Connected andalso lists:member(To, opt(Host, trusted_components)),
                  lists:member(To, opt(Host, outbound_unasked))} of
                {false, _} -> <<"peer">>;
                {true, true} -> skip;
                {true, false} -> <<"component">>
            end
    end.

outbound_check(Host, Dest, Msg, #{resource := Own} = State) ->
    #jid{luser = U, lserver = S} = xmpp:get_from(Msg),
    %% (Every other session of the sender: mod_carboncopy copies to those with carbons enabled.)
    Others = [{R, Info} || {R, Info} <- ejabberd_sm:get_user_info(U, S), R /= Own],
    Embedded = xmpp:encode(Msg, ?NS_CLIENT),
    #xmlel{attrs = Attrs} = Embedded,
    Check = #xmlel{name = <<"check">>,
                   attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, <<"c2s">>}, {<<"outbound">>, Dest},
                            {<<"compact">>, <<"1">>} | xmpp:get_meta(Msg, cordon_sender_ip, [])],
                   children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]}
                               | [(session_el(Host, R, Info))#xmlel{name = <<"copy">>} || {R, Info} <- Others]]},
    AskedPids = maps:from_list([{R, proplists:get_value(pid, Info)} || {R, Info} <- Others]),
    case ask_answer(Host, Check) of
        #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]} ->
            outbound_verdict(Host, Dest, Msg, State, Verdict, AskedPids);
        %% Too large for the guard (its component's stanza bound): no later try can succeed.
        #iq{type = error} = Answer ->
            case xmpp:get_error(Answer) of
                #stanza_error{reason = 'policy-violation'} ->
                    refuse(Msg, #stanza_error{type = modify, reason = 'policy-violation'}),
                    {stop, {drop, State}};
                #stanza_error{reason = Reason} when Reason == 'resource-constraint'; Reason == 'bad-request' ->
                    outbound_unanswered(Host, Msg, State, answered, 'internal-server-error');
                _ -> outbound_unanswered(Host, Msg, State, down, 'internal-server-error')
            end;
        _ -> outbound_unanswered(Host, Msg, State, down, 'remote-server-timeout')
    end.

outbound_verdict(Host, Dest, Msg, State, Verdict, AskedPids) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict)} of
        {?NS_GUARD, <<"deliver">>} ->
            case outbound_labelled(Msg, Verdict) of
                undefined -> outbound_unanswered(Host, Msg, State, answered, 'internal-server-error');
                Labelled ->
                    By = maps:from_list([{fxml:get_tag_attr_s(<<"resource">>, C), fxml:get_tag_attr_s(<<"form">>, C)}
                                         || #xmlel{name = <<"copy">>} = C <- Verdict#xmlel.children]),
                    Forms = {By, flot_of(Verdict), Labelled#message{meta = #{}}, AskedPids},
                    Out = case Dest of
                              <<"peer">> -> Labelled;
                              _ -> Msg
                          end,
                    {xmpp:put_meta(Out, cordon_out_copies, Forms), State}
            end;
        {?NS_GUARD, <<"refuse">>} ->
            with_message(Host, Msg, Verdict, fun(Error) ->
                ejabberd_router:route(xmpp:put_meta(Error, cordon_checked, true))
            end),
            {stop, {drop, State}};
        {?NS_GUARD, <<"drop">>} -> {stop, {drop, State}};
        _ -> outbound_unanswered(Host, Msg, State, answered, 'internal-server-error')
    end.

%% The message as decided: the verdict's labels in place of its own (compact), or the verdict's message.
outbound_labelled(Msg, Verdict) ->
    case fxml:get_tag_attr_s(<<"keep">>, Verdict) of
        <<"1">> ->
            Msg#message{sub_els = [E || E <- Msg#message.sub_els, not is_label(E)]
                                  ++ [L || #xmlel{name = <<"securitylabel">>} = L <- Verdict#xmlel.children,
                                           fxml:get_tag_attr_s(<<"xmlns">>, L) == ?NS_LABELS]};
        _ ->
            case decoded(fxml:get_subtag_with_xmlns(Verdict, <<"message">>, ?NS_CLIENT)) of
                undefined -> undefined;
                Out -> with_form(Msg, Out)
            end
    end.

%% No decision: refused with `wait` — unless `unlabelled_when_down: deliver`, Cordon down (not an
%% answer of the guard's) and the message can carry no label.
outbound_unanswered(Host, Msg, State, Why, Reason) ->
    Unlabelled = Why == down andalso not may_carry_label(xmpp:encode(Msg, ?NS_CLIENT), 0),
    case opt(Host, unlabelled_when_down) == deliver andalso Unlabelled of
        true -> {Msg, State};
        false ->
            error_logger:warning_msg("Cordon guard gave no decision (~p): outbound message refused~n", [Reason]),
            refuse(Msg, #stanza_error{type = wait, reason = Reason}),
            {stop, {drop, State}}
    end.
%% A presence or IQ to another domain that may carry a label (review adv17a, A1): the labelled-payload
%% rule (labelled-payload.ts, payload_check/2) is applied on delivery to a local user only, so a
%% labelled presence or an IQ carrying a whole labelled <message/> reached a remote server or an
%% untrusted component unasked. Asked here, in the session's process, as on delivery (the rule reads
%% the stanza, not its recipient); a presence with no `to` is the one ejabberd broadcasts to the
%% user's contacts, remote ones included. A trusted component (Cordon's relay, MUC) judges its own.
outbound_payload({Pkt, #{lserver := Host, jid := #jid{luser = U}} = State} = Acc) ->
    Outbound = case xmpp:get_to(Pkt) of
                   undefined -> is_record(Pkt, presence);
                   #jid{luser = U, lserver = Host, lresource = <<>>} -> is_record(Pkt, presence);
                   #jid{lserver = To} -> outbound_of(Host, To) == <<"peer">>
               end,
    case Outbound andalso may_carry_label(xmpp:encode(Pkt, ?NS_CLIENT), 0) of
        false -> Acc;
        true ->
            Embedded = xmpp:encode(Pkt, ?NS_CLIENT),
            #xmlel{attrs = Attrs} = Embedded,
            Check = #xmlel{name = <<"check">>,
                           attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, <<"c2s">>}],
                           children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]}]},
            case ask_answer(Host, Check) of
                #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]} = Answer ->
                    case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict)} of
                        {?NS_GUARD, <<"deliver">>} -> Acc;
                        _ -> payload_answered(Pkt, Answer), {stop, {drop, State}}
                    end;
                Other -> payload_answered(Pkt, Other), {stop, {drop, State}}
            end
    end;
outbound_payload(Acc) -> Acc.
%%% ================================ end of messages to another domain =============================

%% Each session gets what the guard decided for it: the labelled form, the FLOT form, or nothing
%% (a session not in the answer — bound while it was decided — gets nothing); a received carbon
%% (XEP-0280) of a decided message the same, by the forms its forwarded copy carries.
user_receive_packet({#message{meta = #{cordon_forms := Forms}} = Msg, #{resource := R} = State}) ->
    case form_for(Forms, Msg, R) of
        drop -> {stop, {drop, State}};
        Out -> {Out, State}
    end;
%% A sent carbon of a message to another domain: decided with it on its way out (outbound/1), its
%% forms in the forwarded copy's meta — no second question.
user_receive_packet({#message{meta = #{carbon_copy := true},
                              sub_els = [#carbons_sent{forwarded = #forwarded{sub_els = [#message{meta = #{cordon_out_copies := Forms}} = Inner]} = Fwd} = Sent]} = Msg,
                     #{resource := R} = State}) ->
    case form_for(Forms, Inner, R) of
        drop -> {stop, {drop, State}};
        Out -> {Msg#message{sub_els = [Sent#carbons_sent{forwarded = Fwd#forwarded{sub_els = [Out]}}]}, State}
    end;
%% A sent carbon (XEP-0280 §6) of a client's message, on its way to another session of the
%% sender: decided here, in that session's process, waiting for the guard (the message itself
%% may not have been decided yet) — the session gets the copy in its own form, or nothing (also
%% when the message is refused, or the guard does not answer).
user_receive_packet({#message{meta = #{carbon_copy := true},
                              sub_els = [#carbons_sent{forwarded = #forwarded{sub_els = [#message{} = Inner]} = Fwd} = Sent]} = Msg,
                     #{resource := R, lserver := Host} = State}) ->
    case sent_copy(Host, Inner, R) of
        drop -> {stop, {drop, State}};
        Out -> {Msg#message{sub_els = [Sent#carbons_sent{forwarded = Fwd#forwarded{sub_els = [Out]}}]}, State}
    end;
user_receive_packet({#message{meta = #{carbon_copy := true},
                              sub_els = [#carbons_received{forwarded = #forwarded{sub_els = [Inner]} = Fwd} = Rcv]} = Msg,
                     #{resource := R} = State}) ->
    case Inner of
        #message{meta = #{cordon_forms := Forms}} ->
            case form_for(Forms, Inner, R) of
                drop -> {stop, {drop, State}};
                Out -> {Msg#message{sub_els = [Rcv#carbons_received{forwarded = Fwd#forwarded{sub_els = [Out]}}]}, State}
            end;
        _ -> {Msg, State}
    end;
user_receive_packet(Acc) -> Acc.

%% (A carbon's forwarded copy may hold another session's form: each form is taken whole.)
sent_copy(Host, #message{from = #jid{luser = U, lserver = S}} = Inner, R) ->
    Info = case ejabberd_sm:get_user_info(U, S, R) of
               offline -> [];
               I -> I
           end,
    Embedded = xmpp:encode(Inner, ?NS_CLIENT),
    #xmlel{attrs = Attrs} = Embedded,
    Copy = (session_el(Host, R, Info))#xmlel{name = <<"copy">>},
    Check = #xmlel{name = <<"check">>,
                   attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"origin">>, <<"c2s">>}
                            | sender_ip(xmpp:get_from(Inner))],
                   children = [Embedded#xmlel{attrs = [{<<"xmlns">>, ?NS_CLIENT} | Attrs]}, Copy]},
    case ask_waiting(Host, Check) of
        #xmlel{} = Verdict ->
            Forms = [{fxml:get_tag_attr_s(<<"resource">>, C), fxml:get_tag_attr_s(<<"form">>, C)}
                     || #xmlel{name = <<"copy">>} = C <- Verdict#xmlel.children],
            case {fxml:get_tag_attr_s(<<"action">>, Verdict), proplists:get_value(R, Forms)} of
                {<<"deliver">>, <<"label">>} ->
                    form_or_drop(Inner, decoded(fxml:get_subtag_with_xmlns(Verdict, <<"message">>, ?NS_CLIENT)));
                {<<"deliver">>, <<"flot">>} ->
                    form_or_drop(Inner, case fxml:get_subtag(Verdict, <<"flot">>) of
                                            false -> undefined;
                                            F -> decoded(fxml:get_subtag_with_xmlns(F, <<"message">>, ?NS_CLIENT))
                                        end);
                _ -> drop
            end;
        _ -> drop
    end;
sent_copy(_Host, _Inner, _R) -> drop.

form_or_drop(_Inner, undefined) -> drop;
form_or_drop(Inner, Form) -> with_form(Inner, Form).

%% Asks the guard and waits in this process for its verdict (undefined: no decision in time).
ask_waiting(Host, Check) ->
    case ask_answer(Host, Check) of
        #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]} -> Verdict;
        _ -> undefined
    end.

%% Asks the guard and waits in this process for its answer (an IQ, or `timeout`).
ask_answer(Host, Check) ->
    IQ = #iq{type = get, id = p1_rand:get_string(),
             from = jid:make(Host), to = jid:make(opt(Host, component)), sub_els = [Check]},
    Self = self(),
    Ref = make_ref(),
    Timeout = opt(Host, timeout),
    ejabberd_router:route_iq(IQ, fun(Answer) -> Self ! {cordon_verdict, Ref, Answer} end, undefined, Timeout),
    receive
        {cordon_verdict, Ref, Answer} -> Answer
    after Timeout + 500 -> timeout
    end.

%% Run in the receiving session's process: a session that took the resource of one that ended
%% while the guard decided (another location, other caps: client-location.ts) gets nothing.
form_for({By, Flot, Labelled, Asked}, Msg, Resource) ->
    case maps:get(Resource, Asked, undefined) == self() andalso maps:get(Resource, By, none) of
        <<"label">> -> with_form(Msg, Labelled);
        <<"flot">> when Flot /= undefined -> with_form(Msg, Flot);
        _ -> drop
    end.

with_form(Msg, Form) ->
    Msg#message{subject = Form#message.subject, body = Form#message.body,
                thread = Form#message.thread, sub_els = Form#message.sub_els}.

%% The answer to a question asked before the module stopped (gen_mod:stop_module/2, a restart,
%% ejabberd shutting down): no decision is applied — each session's form is applied by this
%% module's user_receive_packet hook, gone now, so a decided message would reach every session
%% of the recipient as the first one's (an uncleared location's session included). The sender
%% is told to try again (`wait`, RFC 6120 §8.3.2); a replayed stored message stays stored.
answered_if_loaded(Host, Msg, Answer) ->
    case gen_mod:is_loaded(Host, ?MODULE) andalso not persistent_term:get({?MODULE, stopping, Host}, false) of
        true -> answered(Host, Msg, Answer);
        false -> not_decided(Host, Msg)
    end.

not_decided(Host, Msg) ->
    case xmpp:get_meta(Msg, cordon_replay, false) of
        true -> ejabberd_hooks:run_fold(offline_message_hook, Host, {bounce, Msg}, []);
        false -> refuse(Msg, #stanza_error{type = wait, reason = 'internal-server-error'})
    end.

answered(Host, Msg, #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]}) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict)} of
        {?NS_GUARD, <<"deliver">>} ->
            case fxml:get_tag_attr_s(<<"keep">>, Verdict) of
                <<"1">> ->
                    %% A compact verdict (asked with compact='1'): the message asked about, each of
                    %% its top-level XEP-0258 labels replaced by the verdict's (re-encoded by the guard
                    %% from the decided label: the sender's label bytes never go on).
                    Labels = [L || #xmlel{name = <<"securitylabel">>} = L <- Verdict#xmlel.children,
                                   fxml:get_tag_attr_s(<<"xmlns">>, L) == ?NS_LABELS],
                    Delivered = Msg#message{sub_els = [E || E <- Msg#message.sub_els, not is_label(E)] ++ Labels},
                    Forms = forms(Verdict, Delivered),
                    keep_verdict(Host, xmpp:get_meta(Msg, cordon_cache_key, none), Verdict, Labels, Forms),
                    deliver(Host, xmpp:put_meta(Delivered, cordon_checked, true), Forms);
                _ -> deliver_full(Host, Msg, Verdict)
            end;
        {?NS_GUARD, <<"refuse">>} ->
            %% Our own error, decided: not asked about again on its way to a local sender.
            with_message(Host, Msg, Verdict, fun(Error) ->
                ejabberd_router:route(xmpp:put_meta(Error, cordon_checked, true))
            end);
        {?NS_GUARD, <<"drop">>} -> ok;
        _ -> unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}, answered)
    end;
%% An error answer (the guard refusing the question, or ejabberd bouncing it while the guard is
%% not connected — with `forbidden`) is no decision: refused with a wait error all the same.
answered(Host, Msg, #iq{type = error} = Answer) ->
    case xmpp:get_error(Answer) of
        %% The guard refused the question itself as too large (its component's stanza bound): no
        %% later try can succeed, so the sender is told at once (RFC 6120 §8.3.3.12).
        #stanza_error{reason = 'policy-violation'} ->
            refuse(Msg, #stanza_error{type = modify, reason = 'policy-violation'});
        %% The guard's own answers without a decision (this sender has too many checks in
        %% progress, the question unreadable): Cordon is up, so unlabelled_when_down does not apply.
        #stanza_error{reason = Reason} when Reason == 'resource-constraint'; Reason == 'bad-request' ->
            unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}, answered);
        _ -> unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'})
    end;
answered(Host, Msg, timeout) ->
    unreachable(Host, Msg, #stanza_error{type = wait, reason = 'remote-server-timeout'});
answered(Host, Msg, _) ->
    unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}).

%% The verdict's whole <message/>: its children as delivered (addresses, id and type stay ours).
deliver_full(Host, Msg, Verdict) ->
    with_message(Host, Msg, Verdict, fun(Out) ->
        Delivered = Msg#message{subject = Out#message.subject, body = Out#message.body,
                                thread = Out#message.thread, sub_els = Out#message.sub_els},
        deliver(Host, xmpp:put_meta(Delivered, cordon_checked, true), forms(Verdict, Delivered))
    end).

is_label(#xmlel{name = <<"securitylabel">>} = El) -> fxml:get_tag_attr_s(<<"xmlns">>, El) == ?NS_LABELS;
is_label(_) -> false.

%% What each session gets ({#{Resource => Form}, FlotMessage, LabelledMessage, #{Resource => Pid}}),
%% or none when no session was asked about.
forms(Verdict, Labelled) ->
    By = maps:from_list([{fxml:get_tag_attr_s(<<"resource">>, S), fxml:get_tag_attr_s(<<"form">>, S)}
                         || #xmlel{name = <<"session">>} = S <- Verdict#xmlel.children]),
    case maps:size(By) of
        0 -> none;
        _ -> {By, flot_of(Verdict), Labelled#message{meta = #{}}, xmpp:get_meta(Labelled, cordon_asked, #{})}
    end.

%% The verdict's FLOT form (XEP-0258 §5), when a session gets it.
flot_of(Verdict) ->
    case fxml:get_subtag(Verdict, <<"flot">>) of
        false -> undefined;
        F -> decoded(fxml:get_subtag_with_xmlns(F, <<"message">>, ?NS_CLIENT))
    end.

decoded(false) -> undefined;
decoded(El) ->
    try xmpp:decode(El, ?NS_CLIENT, [ignore_els]) of
        #message{} = M -> M;
        _ -> undefined
    catch _:_ -> undefined
    end.

%% A replayed stored message that the session being sent it may not have is stored again (for a
%% session that may); any other goes to the sessions, each taking its own form.
%% Decided for a recipient with no session (to be stored offline): one that bound meanwhile was
%% never judged (its location, client-location.ts), so the sender is told to try again later.
deliver(Host, Msg, none) ->
    #jid{luser = U, lserver = S} = xmpp:get_to(Msg),
    case xmpp:get_meta(Msg, cordon_asked, #{}) == #{} andalso ejabberd_sm:get_user_info(U, S) /= [] of
        true -> refuse(Msg, #stanza_error{type = wait, reason = 'internal-server-error'});
        false -> route_decided(Host, Msg)
    end;
deliver(Host, Msg, {By, _, _, _} = Forms) ->
    Replayed = xmpp:get_meta(Msg, cordon_replay, false),
    Kept = Replayed andalso lists:all(fun(F) -> F /= <<"label">> andalso F /= <<"flot">> end, maps:values(By)),
    case Kept of
        true -> ejabberd_hooks:run_fold(offline_message_hook, Host, {bounce, Msg}, []);
        false -> route_decided(Host, xmpp:put_meta(Msg, cordon_forms, Forms))
    end.

route_decided(_Host, Msg) -> ejabberd_sm:route(withheld(Msg)).

%%% ================================================================================================
%%% Withheld content. A decided message reaches each session of its recipient by way of that
%%% session's process queue, where this module's user_receive_packet hook gives it the session's own
%%% form (labelled, FLOT, nothing). A message still queued when the module stops (its hooks gone)
%%% would be sent as it was routed, whatever the guard decided for that session. So the decided
%%% message travels without its content: no subject, body, thread or child; the labelled form stays
%%% in its meta (`cordon_forms`, with the FLOT form) and each session's form is put in by the hook.
%%% Without the module a session gets the bare envelope, nothing of the message (fail closed).
%%% Where the whole message is needed, it is put back: at sm_receive_packet 10 (before mod_mam
%%% archives it at 50; withheld again at 95) and at offline_message_hook 1 (before mod_offline
%%% stores it: checked again when replayed). A received carbon (XEP-0280) of a decided message the
%%% same: its forwarded copy withheld on its way to the other session.
%%% ================================================================================================
withheld(#message{meta = #{cordon_forms := {_, _, _, _}}} = Msg) ->
    xmpp:put_meta(Msg#message{subject = [], body = [], thread = undefined, sub_els = []}, cordon_withheld, true);
withheld(Msg) -> Msg.

restored(#message{meta = #{cordon_withheld := true, cordon_forms := {_, _, Labelled, _}}} = Msg) ->
    xmpp:del_meta(with_form(Msg, Labelled), cordon_withheld);
restored(Msg) -> Msg.

sm_withhold(#message{meta = #{cordon_forms := _}} = Msg) -> withheld(Msg);
sm_withhold(#message{meta = #{carbon_copy := true},
                     sub_els = [#carbons_received{forwarded = #forwarded{sub_els = [#message{} = Inner]} = Fwd} = Rcv]} = Msg) ->
    Msg#message{sub_els = [Rcv#carbons_received{forwarded = Fwd#forwarded{sub_els = [withheld(Inner)]}}]};
sm_withhold(Pkt) -> Pkt.

offline_restore({Action, #message{} = Msg}) -> {Action, restored(Msg)};
offline_restore(Acc) -> Acc.

%% The verdict's embedded message, decoded; a verdict without a readable one is no decision.
with_message(Host, Msg, Verdict, Apply) ->
    case fxml:get_subtag_with_xmlns(Verdict, <<"message">>, ?NS_CLIENT) of
        false -> unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}, answered);
        El ->
            try xmpp:decode(El, ?NS_CLIENT, [ignore_els]) of
                #message{} = Out -> Apply(Out);
                _ -> unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}, answered)
            catch _:_ ->
                unreachable(Host, Msg, #stanza_error{type = wait, reason = 'internal-server-error'}, answered)
            end
    end.

unreachable(Host, Msg, Error) -> unreachable(Host, Msg, Error, down).

%% `answered`: the guard answered without a decision. Cordon is up then: the unlabelled_when_down
%% switch is for Cordon down (not connected, timeout) only — otherwise a sender could skip the check
%% at will by sending faster than the guard's per-sender bound of checks in progress.
unreachable(Host, Msg, Error, Why) ->
    Unlabelled = Why == down andalso not may_carry_label(xmpp:encode(Msg, ?NS_CLIENT), 0),
    Replayed = xmpp:get_meta(Msg, cordon_replay, false),
    case opt(Host, unlabelled_when_down) == deliver andalso Unlabelled of
        %% A stored message replayed at login stays stored for a later login (not refused: lost).
        false when Replayed ->
            ejabberd_hooks:run_fold(offline_message_hook, Host, {bounce, Msg}, []);
        true -> ejabberd_sm:route(xmpp:put_meta(Msg, cordon_checked, true));
        false ->
            error_logger:warning_msg("Cordon guard gave no decision (~p): message refused~n",
                                     [Error#stanza_error.reason]),
            refuse(Msg, Error)
    end.

%% Whether a message may carry a label anywhere (what the guard would read or refuse as hidden
%% content: a <securitylabel/> at any depth or with a prefix, an embedded stanza or XEP-0297
%% <forwarded/>, nesting deeper than the guard reads). Only a message that cannot is "unlabelled"
%% when Cordon is down: a label below the top level must not make a message pass unchecked.
-define(MAX_DEPTH, 60).
may_carry_label(#xmlel{children = Els}, Depth) ->
    lists:any(fun(#xmlel{name = Name} = El) ->
                      Depth >= ?MAX_DEPTH
                          orelse binary:match(Name, <<":">>) /= nomatch
                          orelse lists:member(Name, [<<"securitylabel">>, <<"forwarded">>, <<"message">>,
                                                     <<"presence">>, <<"iq">>])
                          orelse may_carry_label(El, Depth + 1);
                 (_) -> false
              end, Els).

%% The sender is told the check could not be made: built here, never ejabberd's bounce (which
%% copies the message's body); nothing of the message but a short id.
refuse(#message{type = error}, _Error) -> ok;
refuse(#message{id = Id, from = From, to = To}, Error) ->
    KeptId = case byte_size(Id) =< ?MAX_ERROR_ID of true -> Id; false -> <<>> end,
    Reply = #message{type = error, id = KeptId, from = To, to = From, sub_els = [Error]},
    ejabberd_router:route(xmpp:put_meta(Reply, cordon_checked, true)).

opt(Host, Name) -> gen_mod:get_module_opt(Host, ?MODULE, Name).

%%% ================================================================================================
%%% The verdict cache (packages/guard/src/verdict-cache.ts; docs/performance.md §4): a verdict the
%%% guard marked cacheable (`cache='1'`) is reused, for `cache_ttl` ms, for a message whose
%%% question would be identical — same origin, sender (full JID) and sending address, recipient
%%% address, type, xml:lang, the recipient's sessions (resource, address, labels in caps), and
%%% shape: each top-level child's name, namespace and attributes, the label's exact bytes or none.
%%% Only a message whose children are all ones that cannot carry labelled content (a body, a
%%% thread, a chat state, a receipt request, an origin-id, with no element below them) and at most
%%% one label has a key; any other is always asked about. Cordon still made the decision: the
%%% cached verdict is applied as its template — the guard's label in place of the new message's,
%%% each body of the FLOT form the new body after the guard's `<prefix/>`, each session's form as
%%% the guard said. Refusals are not cached.
%%% Invalidation: the guard tells this host its cache epoch (an IQ, at once when a clearance, a
%%% policy or its configuration changes, and each time it connects); a different epoch drops
%%% everything, and so does the guard's component connecting or disconnecting (then nothing is
%%% used until the guard tells its epoch again); a verdict is kept only when decided in the epoch
%%% last told. Bounded: at most ?MAX_CACHED verdicts and ?MAX_CACHE_BYTES of table memory.
%%% A verdict in use in the last half of `cache_ttl` is asked about again while still used
%%% (refresh_ahead/6), and a message finding it expired while that question is out waits for its
%%% answer (single flight): a steady stream asks about its key about once per verdict's life.
%%% The table is owned by a process of its own; if it is gone, every message is asked about.
%%% ================================================================================================
-define(MAX_CACHED, 4096).
-define(MAX_CACHE_BYTES, 4194304).
-define(NS_CHAT_STATES, <<"http://jabber.org/protocol/chatstates">>).

%% (The name is made once per host and kept: not an atom lookup per message.)
cache_table(Host) ->
    case persistent_term:get({?MODULE, cache_table, Host}, undefined) of
        undefined ->
            Tab = binary_to_atom(<<"mod_cordon_guard_cache_", Host/binary>>, utf8),
            persistent_term:put({?MODULE, cache_table, Host}, Tab),
            Tab;
        Tab -> Tab
    end.

cache_start(Host) ->
    Tab = cache_table(Host),
    Parent = self(),
    Undertaker = spawn(fun() -> undertaker(Host) end),
    Owner = spawn(fun() ->
                          ets:new(Tab, [named_table, public, set, {read_concurrency, true}]),
                          %% The parked messages (single flight, below): handed to the undertaker
                          %% when this process ends, however it ends.
                          ets:new(parked_table(Host), [named_table, protected, ordered_set,
                                                       {heir, Undertaker, parked}]),
                          Parent ! {cordon_cache_ready, self()},
                          cache_owner_loop(Host)
                  end),
    Undertaker ! {owner, Owner},
    receive {cordon_cache_ready, Owner} -> ok after 5000 -> ok end,
    persistent_term:put({?MODULE, cache_owner, Host}, Owner),
    persistent_term:put({?MODULE, undertaker, Host}, Undertaker),
    gen_iq_handler:add_iq_handler(ejabberd_local, Host, ?NS_GUARD, ?MODULE, process_epoch),
    ejabberd_hooks:add(component_connected, ?MODULE, component_changed, 50),
    ejabberd_hooks:add(component_disconnected, ?MODULE, component_changed, 50).

%% The owner stopped; returns once the undertaker has refused what was parked (at most 5 s).
%% The component hooks are global (one for every host): removed with the last host's module.
cache_stop(Host) ->
    gen_iq_handler:remove_iq_handler(ejabberd_local, Host, ?NS_GUARD),
    case [H || H <- ejabberd_option:hosts(), H /= Host, gen_mod:is_loaded(H, ?MODULE)] of
        [] ->
            ejabberd_hooks:delete(component_connected, ?MODULE, component_changed, 50),
            ejabberd_hooks:delete(component_disconnected, ?MODULE, component_changed, 50);
        _ -> ok
    end,
    Undertaker = persistent_term:get({?MODULE, undertaker, Host}, undefined),
    MRef = case is_pid(Undertaker) of
               true -> erlang:monitor(process, Undertaker);
               false -> undefined
           end,
    case persistent_term:get({?MODULE, cache_owner, Host}, undefined) of
        undefined -> ok;
        Owner -> Owner ! stop, persistent_term:erase({?MODULE, cache_owner, Host})
    end,
    persistent_term:erase({?MODULE, undertaker, Host}),
    case MRef of
        undefined -> ok;
        _ -> receive {'DOWN', MRef, _, _, _} -> ok after 5000 -> erlang:demonitor(MRef, [flush]) end
    end.

%% Everything cached, and the epoch last told (the in-flight counts stay: they count questions).
flush(Host) ->
    flush_entries(Host),
    catch ets:delete(cache_table(Host), '$epoch').

%% The cached verdicts only ({Key, Epoch, Expires, Label, Prefix, By}).
flush_entries(Host) -> catch ets:match_delete(cache_table(Host), {'_', '_', '_', '_', '_', '_'}).

%% How many of a sender's messages (its full JID, lowercased) are being asked about: {{inflight, Sender}, N}.
asking(Host, Sender) ->
    catch ets:update_counter(cache_table(Host), {inflight, Sender}, 1, {{inflight, Sender}, 0}).

asked(Host, Sender) -> asked_in(cache_table(Host), Sender).

%% (`Tab`: the table's name or id; not a table — none when counted — nothing to count down.)
asked_in(Tab, Sender) when is_atom(Tab), Tab /= undefined; is_reference(Tab) ->
    catch ets:update_counter(Tab, {inflight, Sender}, -1, {{inflight, Sender}, 1}),
    catch ets:select_delete(Tab, [{{{inflight, Sender}, 0}, [], [true]}]);
asked_in(_NoTable, _Sender) -> ok.

%% Whether one of the sender's messages is being asked about (the table gone: as if one were).
in_flight(Host, Sender) ->
    case catch ets:lookup(cache_table(Host), {inflight, Sender}) of
        [] -> false;
        [{_, N}] when is_integer(N), N =< 0 -> false;
        _ -> true
    end.

%% The guard's component connecting or disconnecting: what was cached from it is dropped.
component_changed(Domain) -> component_changed(Domain, connected).
component_changed(Domain, _Reason) ->
    lists:foreach(fun(Host) ->
                          case gen_mod:is_loaded(Host, ?MODULE) andalso opt(Host, component) == Domain of
                              true -> flush(Host);
                              false -> ok
                          end
                  end, ejabberd_option:hosts()),
    ok.

%% gen_iq_handler decodes an IQ's payload with this module's decode_iq_subel/1 when it has one:
%% the xmpp library knows no <epoch/>, so it is taken as it came.
decode_iq_subel(El) -> El.

%% <iq type='set' from='guard…'><epoch xmlns='urn:cordon:guard:0' n='…'/></iq>: the guard's cache epoch.
process_epoch(#iq{type = set, from = #jid{luser = <<>>, lresource = <<>>, lserver = From},
                  to = #jid{lserver = Host}, sub_els = [#xmlel{name = <<"epoch">>} = El]} = IQ) ->
    case From == opt(Host, component) of
        true ->
            N = fxml:get_tag_attr_s(<<"n">>, El),
            Tab = cache_table(Host),
            case catch ets:lookup(Tab, '$epoch') of
                [{'$epoch', N}] -> ok;
                _ -> flush(Host), catch ets:insert(Tab, {'$epoch', N})
            end,
            xmpp:make_iq_result(IQ);
        false -> xmpp:make_error(IQ, xmpp:err_forbidden())
    end;
%% <iq type='get'><session xmlns='urn:cordon:guard:0' jid='user@host/resource'/></iq>: where one
%% of this host's sessions connected from (packages/guard/README.md "The session's address"; Cordon
%% issue 17) — answered <session jid='…' ip='…'/>, or item-not-found when there is no such session.
%% Only the guard and the trusted components (Cordon's catalog: the guard's client-location rule
%% applied to the session asking it) may ask; anyone else (a user, a remote server, another
%% component) gets `forbidden`: an address is never told to them.
process_epoch(#iq{type = get, from = #jid{luser = <<>>, lresource = <<>>, lserver = From},
                  to = #jid{lserver = Host}, sub_els = [#xmlel{name = <<"session">>} = El]} = IQ)
  when From /= Host ->
    case From == opt(Host, component) orelse lists:member(From, opt(Host, trusted_components)) of
        true -> session_address(IQ, Host, fxml:get_tag_attr_s(<<"jid">>, El));
        false -> xmpp:make_error(IQ, xmpp:err_forbidden())
    end;
%% <iq type='get'><sessions xmlns='urn:cordon:guard:0' jid='user@host'/></iq>: a user's sessions and
%% where each connected from (the label catalog's recipient-location rule; README "The session's
%% address") — answered <sessions jid='…'><session resource='…' ip='…'/>…</sessions>, every session
%% a check would list (none: offline), resource-constraint past ?MAX_LISTED_SESSIONS, bad-request
%% for anything but a bare JID of this host. The same askers as <session/>.
process_epoch(#iq{type = get, from = #jid{luser = <<>>, lresource = <<>>, lserver = From},
                  to = #jid{lserver = Host}, sub_els = [#xmlel{name = <<"sessions">>} = El]} = IQ)
  when From /= Host ->
    case From == opt(Host, component) orelse lists:member(From, opt(Host, trusted_components)) of
        true -> user_sessions(IQ, Host, fxml:get_tag_attr_s(<<"jid">>, El));
        false -> xmpp:make_error(IQ, xmpp:err_forbidden())
    end;
process_epoch(#iq{type = get, sub_els = [#xmlel{name = Name}]} = IQ)
  when Name == <<"session">>; Name == <<"sessions">> ->
    xmpp:make_error(IQ, xmpp:err_forbidden());
process_epoch(IQ) -> xmpp:make_error(IQ, xmpp:err_bad_request()).

%% RFC 7622 §3.1: a JID is at most 3071 bytes.
-define(MAX_JID, 3071).

session_address(IQ, Host, Asked) when byte_size(Asked) =< ?MAX_JID ->
    NotFound = xmpp:make_error(IQ, xmpp:err_item_not_found()),
    try jid:decode(Asked) of
        #jid{luser = U, lserver = Host, lresource = R} = Jid when U /= <<>>, R /= <<>> ->
            case ejabberd_sm:get_user_ip(U, Host, R) of
                {IP, _Port} ->
                    xmpp:make_iq_result(IQ, #xmlel{name = <<"session">>,
                                                   attrs = [{<<"xmlns">>, ?NS_GUARD},
                                                            {<<"jid">>, jid:encode(Jid)},
                                                            {<<"ip">>, list_to_binary(inet:ntoa(IP))}]});
                _ -> NotFound
            end;
        _ -> NotFound
    catch _:_ -> NotFound
    end;
session_address(IQ, _Host, _Asked) -> xmpp:make_error(IQ, xmpp:err_item_not_found()).

%% How many sessions <sessions/> lists at most (the catalog takes more as not known: nothing labelled).
-define(MAX_LISTED_SESSIONS, 64).

user_sessions(IQ, Host, Asked) when byte_size(Asked) =< ?MAX_JID ->
    BadRequest = xmpp:make_error(IQ, xmpp:err_bad_request()),
    try jid:decode(Asked) of
        #jid{luser = U, lserver = Host, lresource = <<>>} = Jid when U /= <<>> ->
            case ejabberd_sm:get_user_info(U, Host) of
                Sessions when length(Sessions) > ?MAX_LISTED_SESSIONS ->
                    xmpp:make_error(IQ, xmpp:err_resource_constraint());
                Sessions ->
                    Els = [#xmlel{name = <<"session">>,
                                  attrs = [{<<"resource">>, R} | ip_attr(proplists:get_value(ip, Info))]}
                           || {R, Info} <- Sessions],
                    xmpp:make_iq_result(IQ, #xmlel{name = <<"sessions">>,
                                                   attrs = [{<<"xmlns">>, ?NS_GUARD},
                                                            {<<"jid">>, jid:encode(jid:remove_resource(Jid))}],
                                                   children = Els})
            end;
        _ -> BadRequest
    catch _:_ -> BadRequest
    end;
user_sessions(IQ, _Host, _Asked) -> xmpp:make_error(IQ, xmpp:err_bad_request()).

ip_attr({IP, _Port}) -> [{<<"ip">>, list_to_binary(inet:ntoa(IP))}];
ip_attr(_) -> [].

%% The top-level children a cacheable message may have (besides its label): the attributes each may carry.
cacheable_child(?NS_CLIENT, <<"body">>) -> [<<"xml:lang">>];
cacheable_child(?NS_CLIENT, <<"thread">>) -> [<<"parent">>];
cacheable_child(?NS_CHAT_STATES, N) when N == <<"active">>; N == <<"composing">>; N == <<"paused">>;
                                         N == <<"inactive">>; N == <<"gone">> -> [];
cacheable_child(<<"urn:xmpp:receipts">>, <<"request">>) -> [];
cacheable_child(<<"urn:xmpp:sid:0">>, <<"origin-id">>) -> [<<"id">>];
cacheable_child(_, _) -> false.

-define(MESSAGE_ATTRS, [<<"xmlns">>, <<"from">>, <<"to">>, <<"id">>, <<"type">>, <<"xml:lang">>]).

%% The key of the question about `Embedded` (the message as asked about), or none: not cacheable.
cache_key(Host, Origin, #xmlel{attrs = Attrs, children = Children}, SenderIp, SessionEls) ->
    Type = proplists:get_value(<<"type">>, Attrs),
    Cacheable = opt(Host, cache_ttl) > 0
        andalso SessionEls /= []
        andalso lists:member(Type, [undefined, <<"chat">>, <<"normal">>, <<"headline">>])
        andalso lists:all(fun({K, _}) -> lists:member(K, ?MESSAGE_ATTRS) end, Attrs),
    case Cacheable andalso shape(Children, [], 0) of
        false -> none;
        Shape ->
            Sessions = lists:sort([lists:sort(A) || #xmlel{attrs = A} <- SessionEls]),
            {Origin, proplists:get_value(<<"from">>, Attrs), SenderIp, proplists:get_value(<<"to">>, Attrs),
             Type, proplists:get_value(<<"xml:lang">>, Attrs), Shape, Sessions}
    end.

shape([], Acc, _Labels) -> lists:reverse(Acc);
shape([#xmlel{name = Name, attrs = Attrs, children = Children} = El | Rest], Acc, Labels) ->
    NS = proplists:get_value(<<"xmlns">>, Attrs, ?NS_CLIENT),
    case {Name, NS} of
        {<<"securitylabel">>, ?NS_LABELS} when Labels == 0 ->
            shape(Rest, [{label, fxml:element_to_binary(El)} | Acc], 1);
        {<<"securitylabel">>, ?NS_LABELS} -> false;
        _ ->
            case cacheable_child(NS, Name) of
                false -> false;
                Allowed ->
                    Own = [A || {K, _} = A <- Attrs, K /= <<"xmlns">>],
                    case lists:all(fun({K, _}) -> lists:member(K, Allowed) end, Own)
                        andalso not lists:any(fun(C) -> is_record(C, xmlel) end, Children) of
                        true -> shape(Rest, [{NS, Name, lists:sort(key_attrs(NS, Name, Own))} | Acc], Labels);
                        false -> false
                    end
            end
    end;
shape([_Text | Rest], Acc, Labels) -> shape(Rest, Acc, Labels).

%% Attributes whose value nothing decided reads are in the key as present only, so that a client
%% giving each message its own XEP-0359 origin-id (most do) still hits the cache.
key_attrs(<<"urn:xmpp:sid:0">>, <<"origin-id">>, Attrs) -> [{K, present} || {K, _} <- Attrs];
key_attrs(_NS, _Name, Attrs) -> Attrs.

%% The verdict kept for `Key`, when it may be used now.
cached_verdict(_Host, none) -> none;
cached_verdict(Host, Key) ->
    Tab = cache_table(Host),
    case catch ets:lookup(Tab, Key) of
        [{Key, Epoch, Expires, _Label, _Prefix, _By} = Entry] ->
            case (catch ets:lookup(Tab, '$epoch')) == [{'$epoch', Epoch}]
                andalso erlang:monotonic_time(millisecond) < Expires of
                true -> {ok, Entry};
                %% (Only the entry read: one kept meanwhile — a refresh's answer — stays.)
                false -> catch ets:delete_object(Tab, Entry), none
            end;
        _ -> none
    end.

%% Keeps a cacheable compact deliver verdict for `Key`, when decided in the epoch last told:
%% `kept` (replacing the one kept before, in one ets:insert), else ok.
keep_verdict(_Host, none, _Verdict, _Labels, _Forms) -> ok;
keep_verdict(_Host, _Key, _Verdict, _Labels, none) -> ok;
keep_verdict(Host, Key, Verdict, [Label], {By, Flot, _, _}) ->
    Tab = cache_table(Host),
    Epoch = fxml:get_tag_attr_s(<<"epoch">>, Verdict),
    Prefix = case fxml:get_subtag(Verdict, <<"prefix">>) of
                 false -> undefined;
                 P -> fxml:get_tag_cdata(P)
             end,
    Usable = fxml:get_tag_attr_s(<<"cache">>, Verdict) == <<"1">>
        andalso (catch ets:lookup(Tab, '$epoch')) == [{'$epoch', Epoch}]
        andalso (Flot == undefined orelse Prefix /= undefined),
    case Usable of
        false -> ok;
        true ->
            Full = case catch {ets:info(Tab, size), ets:info(Tab, memory) * erlang:system_info(wordsize)} of
                       {Size, Bytes} when is_integer(Size), is_integer(Bytes) ->
                           Size >= ?MAX_CACHED orelse Bytes >= ?MAX_CACHE_BYTES;
                       _ -> true
                   end,
            %% (Full: the verdicts go, the epoch stays as told — never written back from here, where
            %% a newer one may have been told meanwhile.)
            case Full of
                true -> flush_entries(Host);
                false -> ok
            end,
            Kept = case Flot of undefined -> undefined; _ -> Prefix end,
            Expires = erlang:monotonic_time(millisecond) + opt(Host, cache_ttl),
            case catch ets:insert(Tab, {Key, Epoch, Expires, Label, Kept, By}) of
                true -> kept;
                _ -> ok
            end
    end;
keep_verdict(_Host, _Key, _Verdict, _Labels, _Forms) -> ok.

%% Refresh ahead. A verdict in use in the last half of its life (?REFRESH_AHEAD) is asked about
%% again — the question about the message being served, once per key at a time — and the answer
%% replaces it in one ets:insert (kept as any answer is: keep_verdict/5, same epoch rules; the old
%% one stays usable until then, never a moment with none); any other answer (a refusal, a deliver
%% not kept, an error, no answer) removes the verdict refreshed — that entry only, not a newer one
%% — so the next message is asked about. The message itself is served from the verdict still valid
%% and waits for nothing. The refresh is its key's flight (single flight, below): a message that
%% finds the verdict expired while the refresh is out waits for its answer (parked, in order)
%% instead of being asked about, and is served from the renewed verdict when it lands.
%% Why: an expired verdict made the next message asked about, and every later message of that
%% sender wait behind it (RFC 6120 §10.1: in_flight/2) — at a steady stream the sender always has
%% one in flight, so each one after was asked about too, one question per message until the
%% stream paused (session 14: 8 to 1,367 questions per 8,000 messages; session 16: e2e
%% guard-cache-stream 30 questions for 301 messages when the refresh answered after the expiry).
%% Refreshed at half of its life, not a quarter (session 17): a round trip of up to half the life
%% (1 s at the default 2 s) still lands before the expiry; one more question per ≈ 1.5 lives.
-define(REFRESH_AHEAD, 2).

refresh_ahead(Host, Key, {_Key, _Epoch, Expires, _Label, _Prefix, _By} = Entry, Msg, AskedPids, Check) ->
    Tab = cache_table(Host),
    Ttl = opt(Host, cache_ttl),
    Due = Expires - erlang:monotonic_time(millisecond) < Ttl div ?REFRESH_AHEAD,
    case Due andalso (catch ets:insert_new(Tab, {{refresh, Key}, Expires})) == true of
        false -> ok;
        true ->
            Sender = jid:tolower(xmpp:get_from(Msg)),
            Owner = owner(Host),
            case call_owner(Owner, fun(From, Ref) -> {refresh, From, Ref, Key, Sender} end, busy) of
                fly ->
                    Landed = fun() ->
                                     catch land(Host, Owner, Key, Sender, false),
                                     catch ets:delete(Tab, {refresh, Key})
                             end,
                    try
                        %% (refresh='1': the guard counts it apart — this message went from the cache already.)
                        #xmlel{attrs = CheckAttrs} = CheckEl = Check(),
                        IQ = #iq{type = get, id = p1_rand:get_string(),
                                 from = jid:make(Host), to = jid:make(opt(Host, component)),
                                 sub_els = [CheckEl#xmlel{attrs = CheckAttrs ++ [{<<"refresh">>, <<"1">>}]}]},
                        Asked = xmpp:put_meta(Msg, cordon_asked, AskedPids),
                        ejabberd_router:route_iq(IQ, fun(Answer) ->
                                                             try refreshed(Host, Entry, Asked, Answer)
                                                             after Landed()
                                                             end
                                                     end, undefined, opt(Host, timeout))
                    catch _:_ ->
                        %% (Never asked: the flight must not stay — what parks on it would wait forever.)
                        catch ets:delete_object(Tab, Entry),
                        Landed()
                    end;
                %% (A question about this key is out already: its answer renews the verdict.)
                _ -> catch ets:delete(Tab, {refresh, Key})
            end
    end.

refreshed(Host, {Key, _, _, _, _, _} = Entry, Msg,
          #iq{type = result, sub_els = [#xmlel{name = <<"verdict">>} = Verdict]}) ->
    Kept = case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict),
                 fxml:get_tag_attr_s(<<"keep">>, Verdict)} of
               {?NS_GUARD, <<"deliver">>, <<"1">>} ->
                   Labels = [L || #xmlel{name = <<"securitylabel">>} = L <- Verdict#xmlel.children,
                                  fxml:get_tag_attr_s(<<"xmlns">>, L) == ?NS_LABELS],
                   Delivered = Msg#message{sub_els = [E || E <- Msg#message.sub_els, not is_label(E)] ++ Labels},
                   keep_verdict(Host, Key, Verdict, Labels, forms(Verdict, Delivered));
               _ -> ok
           end,
    Kept == kept orelse catch ets:delete_object(cache_table(Host), Entry);
refreshed(Host, Entry, _Msg, _Answer) -> catch ets:delete_object(cache_table(Host), Entry).

%% A kept verdict applied to `Msg` (as a compact one is): returned from the hook, decided.
apply_cached(Msg, {_Key, _Epoch, _Expires, Label, Prefix, By}, AskedPids) ->
    Labelled = Msg#message{sub_els = [E || E <- Msg#message.sub_els, not is_label(E)] ++ [Label]},
    Flot = case Prefix of
               undefined -> undefined;
               _ -> Labelled#message{body = [T#text{data = <<Prefix/binary, D/binary>>}
                                             || #text{data = D} = T <- Labelled#message.body],
                                     meta = #{}}
           end,
    Forms = {By, Flot, Labelled#message{meta = #{}}, AskedPids},
    Decided = xmpp:put_meta(xmpp:put_meta(Labelled, cordon_asked, AskedPids), cordon_checked, true),
    #jid{lserver = Host} = xmpp:get_to(Msg),
    catch ets:update_counter(cache_table(Host), '$served', 1, {'$served', 0}),
    xmpp:put_meta(Decided, cordon_forms, Forms).

%% Messages delivered from the cache never reach the guard: every report_every/1 ms the guard is
%% told how many (when any), so they are counted with its decisions (packages/guard/src/
%% cache-report.ts). Run by the table's owner process; a report not taken is not resent.
%% (`report_interval`, default 5000 ms, at least 100.)
report_every(Host) -> max(100, opt(Host, report_interval)).

cache_owner_loop(Host) ->
    erlang:send_after(report_every(Host), self(), report),
    owner_loop(Host, #{}, #{}).

%% The owner also keeps the flights (single flight, below): Flights maps a key to
%% {Sender, Count, ParkedReversed} (Count: the sender's messages in flight that are the flight's —
%% its question's, 0 for a refresh, and the parked); Parked maps `all` and each sender with parked
%% messages to the bytes they hold.
owner_loop(Host, Flights, Parked) ->
    receive
        stop -> ok;
        report ->
            report_served(Host),
            report_latency(Host),
            erlang:send_after(report_every(Host), self(), report),
            owner_loop(Host, Flights, Parked);
        {flight, From, Ref, Key, Sender, Waiting} ->
            {Reply, Flights1, Parked1} = flight_decision(Host, Flights, Parked, Key, Sender, Waiting),
            From ! {Ref, Reply},
            owner_loop(Host, Flights1, Parked1);
        {refresh, From, Ref, Key, Sender} ->
            case maps:is_key(Key, Flights) of
                true -> From ! {Ref, busy}, owner_loop(Host, Flights, Parked);
                false -> From ! {Ref, fly}, owner_loop(Host, Flights#{Key => {Sender, 0, []}}, Parked)
            end;
        {land, From, Ref, Key, Flier} ->
            case maps:take(Key, Flights) of
                error -> From ! {Ref, {[], false}}, owner_loop(Host, Flights, Parked);
                {{Sender, _Count, Rev}, Flights1} ->
                    Flier andalso asked(Host, Sender),
                    Left = release(Host, Key, Sender, lists:reverse(Rev)),
                    %% (Asked about again only when they are all of the sender's messages in flight: land/5.)
                    Alone = case catch ets:lookup(cache_table(Host), {inflight, Sender}) of
                                [{_, N}] when is_integer(N) -> N =< length(Left);
                                _ -> Left == []
                            end,
                    From ! {Ref, {[W || {Seq, _} <- Left, {_, W} <- ets:take(parked_table(Host), Seq)], Alone}},
                    Bytes = lists:sum([Size || {_, Size} <- Rev]),
                    owner_loop(Host, Flights1, unpark(unpark(Parked, all, Bytes), Sender, Bytes))
            end;
        _ -> owner_loop(Host, Flights, Parked)
    end.

unpark(Parked, Who, Bytes) ->
    case maps:get(Who, Parked, 0) - Bytes of
        Left when Left > 0 -> Parked#{Who => Left};
        _ -> maps:remove(Who, Parked)
    end.

report_served(Host) ->
    Tab = cache_table(Host),
    case catch ets:lookup(Tab, '$served') of
        [{_, N}] when is_integer(N), N > 0 ->
            catch ets:update_counter(Tab, '$served', -N),
            Served = #xmlel{name = <<"served">>,
                            attrs = [{<<"xmlns">>, ?NS_GUARD}, {<<"n">>, integer_to_binary(N)}]},
            IQ = #iq{type = set, id = p1_rand:get_string(),
                     from = jid:make(Host), to = jid:make(opt(Host, component)), sub_els = [Served]},
            catch ejabberd_router:route_iq(IQ, fun(_) -> ok end, undefined, opt(Host, timeout));
        _ -> ok
    end.

%%% ================================================================================================
%%% The latency this check adds, measured where it is added, on the node's monotonic clock
%%% (packages/guard/src/latency-report.ts): each one-to-one message's hold — from taking it in
%%% sm_receive_packet (before the verdict cache is looked up) to returning it from the hook served
%%% from the cache, or to having routed the decided message on (the second routing is this
%%% module's own work) or refused it — by kind: hold_cached (delivered from the verdict cache: as
%%% many as '$served' counts) or hold_asked (every other: the guard asked, or refused with no
%%% verdict to be had); and each question's round trip (route_iq → answer; none for a question
%%% with no answer in time). Fixed buckets, the guard's own (LATENCY_BOUNDS_US: 10 µs to 10 s,
%%% five a decade), counted in the cache table: one ets:update_counter per observation, bounded
%%% (3 histograms × 32 buckets). The owner reports and subtracts what it read every report_every/1.
%%% ================================================================================================
-define(BOUNDS, {10, 16, 25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300,
                 10000, 16000, 25000, 40000, 63000, 100000, 160000, 250000, 400000, 630000,
                 1000000, 1600000, 2500000, 4000000, 6300000, 10000000}).
-define(N_BOUNDS, 31).

%% One observation, since `Since` (erlang:monotonic_time/0): {{'$lat', Histogram, Bucket}, Count, SumUs}.
held(Host, Histogram, Since) ->
    Us = erlang:convert_time_unit(erlang:monotonic_time() - Since, native, microsecond),
    Key = {'$lat', Histogram, bucket(Us)},
    catch ets:update_counter(cache_table(Host), Key, [{2, 1}, {3, Us}], {Key, 0, 0}),
    ok.

%% The bucket (0-based) of `Us`: above bound I-1, at most bound I (?N_BOUNDS: above the last).
bucket(Us) when Us =< 10 -> 0;
bucket(Us) -> settle(Us, min(?N_BOUNDS, ceil(math:log10(Us / 10) * 5))).

settle(Us, I) when I < ?N_BOUNDS, Us > element(I + 1, ?BOUNDS) -> settle(Us, I + 1);
settle(Us, I) when I > 0, Us =< element(I, ?BOUNDS) -> settle(Us, I - 1);
settle(_Us, I) -> I.

%% What was observed since the last report, told the guard (then subtracted: what is observed
%% meanwhile stays for the next). A report not taken is not resent.
report_latency(Host) ->
    Tab = cache_table(Host),
    case catch ets:match_object(Tab, {{'$lat', '_', '_'}, '_', '_'}) of
        Rows when is_list(Rows) ->
            Moved = lists:keysort(1, [R || {_, N, _} = R <- Rows, N > 0]),
            lists:foreach(fun({K, N, S}) -> catch ets:update_counter(Tab, K, [{2, -N}, {3, -S}]) end, Moved),
            Hs = [H || {Histogram, Of, Kind} <- [{hold_cached, <<"hold">>, <<"cached">>},
                                                 {hold_asked, <<"hold">>, <<"asked">>},
                                                 {round_trip, <<"round-trip">>, <<"asked">>}],
                       H <- histogram_el(Of, Kind, [R || {{_, Hi, _}, _, _} = R <- Moved, Hi == Histogram])],
            case Hs of
                [] -> ok;
                _ ->
                    Latency = #xmlel{name = <<"latency">>, attrs = [{<<"xmlns">>, ?NS_GUARD}], children = Hs},
                    IQ = #iq{type = set, id = p1_rand:get_string(),
                             from = jid:make(Host), to = jid:make(opt(Host, component)), sub_els = [Latency]},
                    catch ejabberd_router:route_iq(IQ, fun(_) -> ok end, undefined, opt(Host, timeout))
            end;
        _ -> ok
    end.

histogram_el(_Of, _Kind, []) -> [];
histogram_el(Of, Kind, Rows) ->
    B = lists:join(<<",">>, [<<(integer_to_binary(I))/binary, $:, (integer_to_binary(N))/binary>>
                             || {{_, _, I}, N, _} <- Rows]),
    [#xmlel{name = <<"h">>,
            attrs = [{<<"of">>, Of}, {<<"kind">>, Kind},
                     {<<"us">>, integer_to_binary(lists:sum([S || {_, _, S} <- Rows]))},
                     {<<"b">>, iolist_to_binary(B)}]}].

%%% ================================================================================================
%%% Single flight (docs/performance.md §4): when a question is out for a cache key — a message's,
%%% or a refresh's (refresh_ahead/6) —, a message with the same key that cannot be served from the
%%% cache (the verdict expired or not kept yet, or an earlier message of its sender still in flight)
%%% waits for that answer (it is parked with the table's owner process) instead of being asked
%%% about too; when the answer comes, the asked message is delivered or refused first, then the
%%% owner hands each parked one on, in the order they came, served from the verdict cache by a
%%% lookup made in its turn — or, when the answer was not kept (a refusal, not cacheable, no answer,
%%% a new epoch meanwhile), the rest are asked about each on its own (land/5). The owner counts a
%%% parked message out of flight only once it is handed on, and it serializes parking and landing:
%%% a message of the sender that saw one in flight and asks to park after the landing is served
%%% from the cache (`{cached, Entry}`: nothing of the sender in flight any more, the verdict kept) —
%%% not asked about, and behind every parked one (RFC 6120 §10.1). So a steady stream of one key
%%% asks about once per verdict's life, whatever the round trip (before: past 64 parked, or arriving
%%% while the parked ones were handed on, each message was asked about: the renewal chain).
%%% A message is parked only when every message of its sender in flight is in that flight (so none
%%% overtakes another of the sender's messages, RFC 6120 §10.1), otherwise it is asked about.
%%% Bounded: ?MAX_PARKED per flight and ?MAX_PARKED_SENDER_BYTES per sender — past these (a sender
%%% outrunning a question by more than any ordinary stream: 1,024 messages in one round trip) the
%%% message is refused with `wait` (resource-constraint), as Prosody refuses past its MAX_HELD:
%%% asking about it instead would put it in flight outside the flight, so that every later message
%%% of the sender were asked about too; ?MAX_PARKED_BYTES in all — past that (many senders parking
%%% at once) a message is asked about (never refused for what others parked). The owner
%%% gone (the module stopping): asked about (and refused with `wait` when the answer finds the
%%% module stopped: answered_if_loaded/3).
%%% A parked message is held in the owner's table of parked messages, whose ETS heir is the
%%% undertaker: when the owner ends — the module stopping, or the process dying however it dies
%%% (ETS hands a table to its heir even on a kill) — the undertaker gets the table and refuses each
%%% message in it with `wait` (RFC 6120 §8.3.2: try again later), carrying nothing of it. Never
%%% delivered, never lost without a word.
%%% ================================================================================================
-define(MAX_PARKED, 1024).
-define(MAX_PARKED_SENDER_BYTES, 1048576).
-define(MAX_PARKED_BYTES, 16777216).

parked_table(Host) -> binary_to_atom(<<"mod_cordon_guard_parked_", Host/binary>>, utf8).

%% Waits for the owner's table of parked messages (its heir) and refuses what is in it; ends
%% when the owner ended without one to hand over.
undertaker(Host) ->
    Owner = receive {owner, O} -> O after 10000 -> undefined end,
    MRef = case Owner of
               undefined -> undefined;
               _ -> erlang:monitor(process, Owner)
           end,
    receive
        {'ETS-TRANSFER', Tab, _From, parked} -> bury(Host, Tab);
        {'DOWN', MRef, _, _, _} ->
            %% (ETS hands the table over before the owner's monitors fire; a late one still taken.)
            receive {'ETS-TRANSFER', Tab, _, parked} -> bury(Host, Tab) after 1000 -> ok end
    end.

%% Each message left parked, in the order parked: refused (never delivered).
bury(Host, Tab) ->
    Left = ets:tab2list(Tab),
    ets:delete(Tab),
    Left /= [] andalso error_logger:warning_msg("Cordon guard: ~B parked message(s) refused (wait): "
                                                "the module stopped before their decision~n", [length(Left)]),
    lists:foreach(fun({_Seq, {_Origin, Msg, _AskedPids}}) -> not_decided(Host, Msg) end, Left).

%% fly: this message's question is the flight for Key (land/5 once answered); park: it waits on
%% the flight already out; ask: asked about outside any flight.
flight(Owner, Key, Sender, Waiting) ->
    call_owner(Owner, fun(From, Ref) -> {flight, From, Ref, Key, Sender, Waiting} end, ask).

%% A request to the table's owner, waited for until answered or the owner is gone (no timeout: a
%% message the owner parked after its caller had given up would be asked about twice).
%% The table's owner now (undefined: none). A flight is landed with the very owner that granted it,
%% never with one started since (the module restarted while its question was out): an old
%% instance's answer took the new instance's flight of the same key — its parked messages handed
%% on or refused before the question they waited on was answered, and the sender's count in
%% flight never counted down (e2e guard-cache-renew-attack RA3). An owner gone took its table,
%% and the counts in it, along.
owner(Host) -> persistent_term:get({?MODULE, cache_owner, Host}, undefined).

call_owner(Owner, Request, IfGone) ->
    case Owner of
        undefined -> IfGone;
        Owner ->
            MRef = erlang:monitor(process, Owner),
            Owner ! Request(self(), MRef),
            receive
                {MRef, Reply} -> erlang:demonitor(MRef, [flush]), Reply;
                {'DOWN', MRef, _, _, _} -> IfGone
            end
    end.

flight_decision(Host, Flights, Parked, Key, Sender, Waiting) ->
    case maps:find(Key, Flights) of
        error ->
            case in_flight(Host, Sender) orelse cached_verdict(Host, Key) of
                {ok, Entry} -> {{cached, Entry}, Flights, Parked};
                _ ->
                    asking(Host, Sender),
                    {fly, Flights#{Key => {Sender, 1, []}}, Parked}
            end;
        {ok, {FlightSender, Count, Rev}} ->
            Size = erlang:external_size(Waiting),
            %% Every message of this sender in flight is in this flight (the asked one + the parked).
            AllInFlight = FlightSender == Sender andalso
                case catch ets:lookup(cache_table(Host), {inflight, Sender}) of
                    [{_, Count}] -> true;
                    [] -> Count == 0;
                    _ -> false
                end,
            Mine = maps:get(Sender, Parked, 0),
            All = maps:get(all, Parked, 0),
            if not AllInFlight -> {ask, Flights, Parked};
               Count >= ?MAX_PARKED; Mine + Size > ?MAX_PARKED_SENDER_BYTES -> {refuse, Flights, Parked};
               All + Size > ?MAX_PARKED_BYTES -> {ask, Flights, Parked};
               true ->
                   asking(Host, Sender),
                   Seq = erlang:unique_integer([monotonic, positive]),
                   ets:insert(parked_table(Host), {Seq, Waiting}),
                   {park, Flights#{Key => {Sender, Count + 1, [{Seq, Size} | Rev]}},
                    Parked#{all => All + Size, Sender => Mine + Size}}
            end
    end.

%% In the owner, at a flight's landing: each parked message in turn served from the verdict cache
%% and routed on, counted out of flight once routed (so nothing of the sender is served past it).
%% Returns those left (the verdict not kept, or gone meanwhile), still parked and in flight.
release(_Host, _Key, _Sender, []) -> [];
release(Host, Key, Sender, [{Seq, _} | Rest] = Left) ->
    case cached_verdict(Host, Key) of
        {ok, Entry} ->
            case ets:take(parked_table(Host), Seq) of
                [{_, {_Origin, Msg, AskedPids}}] ->
                    Taken = xmpp:get_meta(Msg, cordon_taken, erlang:monotonic_time()),
                    try
                        route_decided(Host, apply_cached(Msg, Entry, AskedPids)),
                        held(Host, hold_cached, Taken)
                    catch _:_ ->
                        refuse(Msg, #stanza_error{type = wait, reason = 'internal-server-error'})
                    after asked(Host, Sender)
                    end;
                _ -> asked(Host, Sender)
            end,
            release(Host, Key, Sender, Rest);
        none -> Left
    end.

%% The flight's question answered (and its message delivered or refused; `Flier`: that message
%% counted in flight, false for a refresh): the owner hands the parked messages on from the cache
%% (release/4); those it could not (the answer not kept) each asked about on its own here.
%% Asked about again only when they are all of the sender's messages in flight: one asked after
%% them (another key, or this one when not every message in flight was in the flight) would else
%% be answered and delivered before them (RFC 6120 §10.1; guard-cache-attack2 SF3). Otherwise
%% each is refused with `wait` (never judged: the client may send it again), as Prosody refuses
%% a message whose kept verdict was gone by its turn.
land(Host, Owner, Key, Sender, Flier) ->
    {Waiting, Alone} = case call_owner(Owner, fun(From, Ref) -> {land, From, Ref, Key, Flier} end, gone) of
                           gone -> {[], false};
                           Reply -> Reply
                       end,
    lists:foreach(fun({Origin, Msg, AskedPids}) ->
                          Taken = xmpp:get_meta(Msg, cordon_taken, erlang:monotonic_time()),
                          try
                              case cached_verdict(Host, Key) of
                                  {ok, Entry} ->
                                      route_decided(Host, apply_cached(Msg, Entry, AskedPids)),
                                      held(Host, hold_cached, Taken);
                                  none when Alone ->
                                      %% (Asked about on its own: its hold is measured there.)
                                      case ask(Host, Origin, xmpp:put_meta(Msg, cordon_no_flight, true)) of
                                          {stop, drop} -> ok;
                                          Decided -> route_decided(Host, Decided)
                                      end;
                                  none ->
                                      refuse(Msg, #stanza_error{type = wait, reason = 'internal-server-error'}),
                                      held(Host, hold_asked, Taken)
                              end
                          after asked(Host, Sender)
                          end
                  end, Waiting).

%%% ================================================================================================
%%% The server access label (Cordon issue 17; packages/guard/src/access.ts). Optional: with
%%% `access_check: true`, each user must have a clearance that grants the guard's `accessLabel`
%%% before a resource is bound (RFC 6120 §7), i.e. before the user is online.
%%% Where: ejabberd 23.01 has no hook between authentication and binding that can refuse a bind
%%% (`c2s_session_opened` runs after the session is registered with ejabberd_sm). So the module
%%% hooks `c2s_handle_recv`, which xmpp_stream_in runs in the client's own c2s process for each
%%% element the client sends, before processing it; for a bind request (stream state
%%% wait_for_bind) it asks the guard and, unless allowed, sets the session's `access` rule to
%%% `none` (saving the listener's): ejabberd_c2s:bind/2 then refuses the bind itself, as it does
%%% for its own `access` option — `not-allowed` (RFC 6120 §7.6.2.2) "Access denied by service
%%% policy", the forbidden_session_hook run and the refusal logged — and no session is opened.
%%% Waiting: the question is an IQ whose answer ejabberd_iq sends to this c2s process; the process
%%% waits for it (at most `timeout` ms): only this not-yet-bound session waits.
%%% Fail closed: denied, an error answer (the guard not connected: ejabberd bounces the question),
%%% a malformed answer or no answer within `timeout`: the bind is refused. The session stays
%%% unbound; the client may try again (asked again each time).
%%% XEP-0078 (mod_legacy_auth) binds in the same request that authenticates, by calling
%%% ejabberd_c2s:bind/2 itself: for it the module asks in `c2s_auth_result`, which that module runs
%%% once the password is checked and before it binds — never before (an unauthenticated client must
%%% not learn whether a user is cleared).
%%% Without the option the hooks are not added: sites with no access label pay nothing per stanza.
%%% ================================================================================================
access_start(Host, Opts) ->
    case gen_mod:get_opt(access_check, Opts) of
        true ->
            ejabberd_hooks:add(c2s_handle_recv, Host, ?MODULE, c2s_handle_recv, 10),
            ejabberd_hooks:add(c2s_auth_result, Host, ?MODULE, c2s_auth_result, 10);
        false -> ok
    end.

access_stop(Host) ->
    ejabberd_hooks:delete(c2s_handle_recv, Host, ?MODULE, c2s_handle_recv, 10),
    ejabberd_hooks:delete(c2s_auth_result, Host, ?MODULE, c2s_auth_result, 10).

c2s_handle_recv(#{stream_state := wait_for_bind, user := User, lserver := LServer} = State,
                _El, #iq{type = set} = IQ) ->
    case xmpp:has_subtag(IQ, #bind{}) of
        false -> State;
        true -> access_decided(State, LServer, User)
    end;
c2s_handle_recv(State, _El, _Pkt) -> State.

%% XEP-0078: the password is checked, the bind comes next in the same request.
c2s_auth_result(#{sasl_mech := <<"legacy">>, lserver := LServer} = State, true, User) ->
    access_decided(State, LServer, User);
c2s_auth_result(State, _Result, _User) -> State.

%% The session's `access` rule: the listener's when allowed, `none` (ejabberd's bind refuses) otherwise.
access_decided(State, LServer, User) ->
    %% The listener's own rule, kept across refused attempts.
    Listener = maps:get(cordon_listener_access, State, maps:get(access, State, all)),
    case access_allowed(LServer, User) of
        true -> State#{access => Listener, cordon_listener_access => Listener};
        {false, Why} ->
            error_logger:warning_msg("Resource binding of ~ts@~ts refused by Cordon's "
                                     "access check (~p)~n", [User, LServer, Why]),
            State#{access => none, cordon_listener_access => Listener}
    end.

%% true when the guard answers allow; {false, Why} otherwise.
access_allowed(Host, User) ->
    case jid:make(User, Host) of
        #jid{luser = LUser, lserver = LServer} when LUser /= <<>> ->
            Ref = make_ref(),
            Timeout = opt(Host, timeout),
            Access = #xmlel{name = <<"access">>,
                            attrs = [{<<"xmlns">>, ?NS_GUARD},
                                     {<<"jid">>, <<LUser/binary, $@, LServer/binary>>}]},
            IQ = #iq{type = get, id = p1_rand:get_string(),
                     from = jid:make(Host), to = jid:make(opt(Host, component)),
                     sub_els = [Access]},
            %% ejabberd_iq sends {iq_reply, Answer | timeout, Ref} to this process.
            ejabberd_router:route_iq(IQ, Ref, self(), Timeout),
            receive
                {iq_reply, Answer, Ref} -> access_answer(Answer)
            after Timeout + 1000 -> {false, timeout}
            end;
        _ -> {false, bad_user}
    end.

access_answer(#iq{type = result, sub_els = [#xmlel{name = <<"access-verdict">>} = Verdict]}) ->
    case {fxml:get_tag_attr_s(<<"xmlns">>, Verdict), fxml:get_tag_attr_s(<<"action">>, Verdict)} of
        {?NS_GUARD, <<"allow">>} -> true;
        {?NS_GUARD, <<"deny">>} -> {false, denied};
        _ -> {false, malformed_answer}
    end;
access_answer(#iq{type = error}) -> {false, error_answer};
access_answer(timeout) -> {false, timeout};
access_answer(_) -> {false, malformed_answer}.
%%% ======================================================== end of the server access label ======
