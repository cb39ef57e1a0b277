/* A made-up, minimal sdk.d.ts for tests/unit/test_parity_tool.py (not the real one). */
export declare class AbortError extends Error {
}

export declare function query(_params: {
    prompt: string;
    options?: Options;
}): Query;

export declare function listSessions(): Promise<string[]>;

export declare function throwConfetti(): void;

export declare const HOOK_EVENTS: readonly ['PreToolUse', 'Stop', 'TsOnlyEvent'];

export declare type HookEvent = 'PreToolUse' | 'Stop' | 'TsOnlyEvent' | 'AnotherTsEvent';

/**
 * Options, with a comment holding { braces }, a fake: field; and 'quotes.
 */
export declare type Options = {
    abortController?: AbortController;
    /** As `--add-dir`. */
    additionalDirectories?: string[];
    maxTurns?: number;
    nested?: {
        inner: string;
        deeper: { notAKey: number };
    };
    stderr?: (data: string) => void;
    'quotedKey'?: boolean;
    readonly confettiLevel?: number;
    pathToClaudeCodeExecutable?: string;
};

export declare interface Query extends AsyncGenerator<SDKMessage, void> {
    interrupt(): Promise<void>;
    mcpServerStatus(): Promise<string[]>;
    juggleBalls(count: number): Promise<void>;
}

export declare type SDKMessage = SDKUserMessage | SDKResultMessage | SDKTaskStartedMessage | SDKConfettiMessage;

export declare type SDKUserMessage = {
    type: 'user';
    message: {
        content: string;
        type: 'not_the_discriminator';
    };
};

export declare type SDKResultMessage = SDKResultSuccess | SDKResultError;

export declare type SDKResultSuccess = {
    type: 'result';
    subtype: 'success';
};

export declare type SDKResultError = {
    type: 'result';
    subtype: 'error_max_turns' | 'error_during_execution';
};

export declare type SDKTaskStartedMessage = SDKBase & {
    type: 'system';
    subtype: 'task_started';
};

declare type SDKBase = {
    uuid: string;
    session_id: string;
};

export declare type SDKConfettiMessage = {
    type: 'system';
    subtype: 'confetti';
    note: '};';
};

declare type SDKControlRequestInner = SDKControlInterruptRequest | SDKHookCallbackRequest | SDKControlThrowConfettiRequest;

declare type SDKControlInterruptRequest = {
    subtype: 'interrupt';
};

declare type SDKHookCallbackRequest = {
    subtype: 'hook_callback';
    callback_id: string;
};

declare type SDKControlThrowConfettiRequest = {
    subtype: 'throw_confetti';
    amount: number;
};

declare type SDKControlOrphanRequest = {
    subtype: 'orphan_request';
};

// export declare type Commented = { subtype: 'commented_out' };

export { };
